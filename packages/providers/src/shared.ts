import { ProviderError, type ProviderName, parseStructured, type Usage } from "@foundry/llm";
import type { z } from "zod";

// Helpers every adapter uses. Nothing here knows an SDK: each adapter maps its own SDK's errors.

/** Timeout of one provider call when the request sets none, in milliseconds. */
export const DEFAULT_TIMEOUT_MS = 120_000;
/** Output-token limit of one provider call when the request sets none. */
export const DEFAULT_MAX_OUTPUT_TOKENS = 8192;

const SCHEMA_NAME = /^[A-Za-z0-9_-]{1,64}$/;

// Key shapes of the three providers, redacted even when they are not our own key (a proxy may
// echo another one). OpenAI `sk-…`/`sk-proj-…`, Anthropic `sk-ant-…`, Google `AIza…`.
const KEY_PATTERNS = [/sk-[A-Za-z0-9_-]{16,}/g, /AIza[A-Za-z0-9_-]{20,}/g];

/** Replaces the API key (and anything shaped like a provider key) with `[redacted]`. */
export function redactSecrets(text: string, apiKey: string): string {
  let out = apiKey.length >= 4 ? text.split(apiKey).join("[redacted]") : text;
  for (const pattern of KEY_PATTERNS) out = out.replace(pattern, "[redacted]");
  return out;
}

/**
 * The `cause` to attach to a ProviderError: the SDK's error as it is, unless its message or body
 * echoes the key, in which case a redacted copy (the error may be logged with its cause chain).
 */
export function safeCause(error: unknown, apiKey: string): unknown {
  if (!(error instanceof Error) || apiKey.length < 4) return error;
  const body = "error" in error ? safeStringify(error.error) : "";
  if (!error.message.includes(apiKey) && !body.includes(apiKey)) return error;
  const copy = new Error(redactSecrets(error.message, apiKey));
  copy.name = error.name;
  return copy;
}

function safeStringify(value: unknown): string {
  try {
    return JSON.stringify(value) ?? "";
  } catch {
    return "";
  }
}

/** A one-line, bounded, key-free excerpt of a provider's error text for our own messages. */
export function excerpt(text: string | undefined, apiKey: string): string {
  if (!text) return "";
  const line = redactSecrets(text, apiKey).replace(/\s+/g, " ").trim();
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}

/** The innermost message of an error's cause chain (e.g. `connect ECONNREFUSED 127.0.0.1:80`). */
export function rootMessage(error: unknown, apiKey: string): string {
  let current = error;
  let message = "";
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    message = current.message;
    current = current.cause;
  }
  return excerpt(message, apiKey);
}

/** Rejects missing settings when the model is created rather than on its first call. */
export function assertApiKey(provider: ProviderName, apiKey: string | undefined): void {
  if (typeof apiKey !== "string" || apiKey.trim() === "") {
    throw new ProviderError(`${provider}: an API key is required`, { provider, code: "auth" });
  }
}

/** Rejects a schema name the providers would refuse, before spending a request on it. */
export function assertSchemaName(provider: ProviderName, schemaName: string): void {
  if (!SCHEMA_NAME.test(schemaName)) {
    throw new ProviderError(
      `${provider}: schema name ${JSON.stringify(schemaName)} must be 1-64 letters, digits, "_" or "-"`,
      { provider, code: "bad_request" },
    );
  }
}

/**
 * `parseStructured` with a hint when the answer was cut off by the output-token limit, which is
 * the usual reason for JSON that does not parse or misses required fields.
 */
export function parseAnswer<T>(
  provider: ProviderName,
  schema: z.ZodType<T>,
  text: string,
  usage: Usage,
  truncated: boolean,
): T {
  try {
    return parseStructured(provider, schema, text, usage);
  } catch (error) {
    if (!truncated || !ProviderError.is(error)) throw error;
    throw new ProviderError(`${error.message} (the answer was cut off at the output-token limit)`, {
      provider,
      code: error.code,
      text: error.text,
      usage: error.usage,
      cause: error.cause,
    });
  }
}

/** Milliseconds since `start`, a `performance.now()` value. */
export function elapsedMs(start: number): number {
  return performance.now() - start;
}

/** Validates the per-request timeout. */
export function timeoutOf(provider: ProviderName, timeoutMs: number | undefined): number {
  const ms = timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!Number.isFinite(ms) || ms <= 0) {
    throw new ProviderError(`${provider}: timeoutMs must be a positive number, got ${ms}`, {
      provider,
      code: "bad_request",
    });
  }
  return ms;
}
