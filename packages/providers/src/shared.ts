import { FoundryError } from "@foundry/errors";
import {
  codeForStatus,
  EMPTY_ANSWER_PLACEHOLDER,
  type GenerateRequest,
  ProviderError,
  type ProviderErrorCode,
  type ProviderName,
  parseStructured,
  type Usage,
} from "@foundry/llm";
import type { z } from "zod";

// Helpers every adapter uses. Nothing here knows an SDK: each adapter classifies its own SDK's
// errors and `mapProviderError` turns that into a ProviderError.

/** Timeout of one provider call when the request sets none, in milliseconds. */
export const DEFAULT_TIMEOUT_MS = 120_000;
/** Output-token limit of one provider call when the request sets none (defined with the estimate). */
export { DEFAULT_MAX_OUTPUT_TOKENS } from "@foundry/llm";

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

/** Provider settings that cannot work (a bad value in the environment or the options). */
export class ProviderSettingsError extends FoundryError {
  override readonly name = "ProviderSettingsError";

  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { code: "INVALID_PROVIDER_SETTINGS", isRetryable: false, ...options });
  }
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

/** A previous answer as it can be sent back: providers refuse empty (or blank) message text. */
export function previousAnswerText(previousText: string): string {
  return previousText.trim() === "" ? EMPTY_ANSWER_PLACEHOLDER : previousText;
}

/** The header that carries `GenerateRequest.requestId` on every provider's wire. */
export const REQUEST_ID_HEADER = "x-foundry-request-id";

/** Headers naming our request id, when there is one (printable ASCII only, as HTTP requires). */
export function requestIdHeaders(requestId: string | undefined, extra: readonly string[] = []) {
  if (requestId === undefined) return undefined;
  if (!/^[\x21-\x7e]{1,200}$/.test(requestId)) {
    throw new TypeError(
      `requestId must be 1-200 printable ASCII characters, got ${JSON.stringify(requestId)}`,
    );
  }
  return Object.fromEntries([REQUEST_ID_HEADER, ...extra].map((name) => [name, requestId]));
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

/** What an adapter's classifier makes of a thrown error. */
export type ClassifiedError =
  | { kind: "aborted" | "timeout" | "network" | "syntax" | "other" }
  | {
      kind: "http";
      status: number;
      /** A status name the provider sends besides the number (Gemini's `RESOURCE_EXHAUSTED`). */
      statusText?: string;
      /** The provider's own error message; redacted and bounded here. */
      detail?: string;
      /**
       * When to try again, if the provider said; kept as said (however long) for rate limits,
       * server errors and quotas: whether to wait that long is the caller's decision.
       */
      retryAfterMs?: number;
      /**
       * Set when the provider said the account's quota, credit or spend limit is used up (a 429
       * that no wait lifts, or a billing error): the cause in a few words, e.g.
       * `insufficient_quota`. Makes the error `quota_exceeded` whatever the status.
       */
      quota?: string;
    };

/**
 * Classifies an error the SDK throws. `undefined`: not one of the SDK's own, left to the shared
 * ladder (a SyntaxError is a response body that is not JSON; anything else is `unknown`).
 */
export type ErrorClassifier = (error: unknown) => ClassifiedError | undefined;

/** The call a failure belongs to. */
export interface CallContext {
  /** Redacted from every message and cause. */
  apiKey: string;
  timeoutMs: number;
  /** The caller's signal: once it has fired, any failure is `aborted`. */
  signal: AbortSignal | undefined;
}

/**
 * Validates what a request would be refused for (schema name, timeout) before anything is sent.
 */
export function callContext(
  provider: ProviderName,
  apiKey: string,
  request: GenerateRequest<unknown>,
): CallContext {
  assertSchemaName(provider, request.schemaName);
  return { apiKey, timeoutMs: timeoutOf(provider, request.timeoutMs), signal: request.signal };
}

/** Awaits one SDK call, timing it and mapping whatever it throws to a ProviderError. */
export async function timedCall<R>(
  provider: ProviderName,
  ctx: CallContext,
  classify: ErrorClassifier,
  send: () => Promise<R>,
): Promise<{ response: R; latencyMs: number }> {
  const start = performance.now();
  try {
    const response = await send();
    return { response, latencyMs: elapsedMs(start) };
  } catch (error) {
    throw mapProviderError(provider, error, ctx, classify);
  }
}

/** Maps anything an SDK throws to a ProviderError whose message and cause are free of the key. */
export function mapProviderError(
  provider: ProviderName,
  error: unknown,
  { apiKey, timeoutMs, signal }: CallContext,
  classify: ErrorClassifier,
): ProviderError {
  const cause = safeCause(error, apiKey);
  const fail = (what: string, code: ProviderErrorCode, more?: { status: number; retryAfterMs?: number }) =>
    new ProviderError(`${provider} ${what}`, { provider, code, ...more, cause });
  const found: ClassifiedError = signal?.aborted
    ? { kind: "aborted" }
    : (classify(error) ?? { kind: error instanceof SyntaxError ? "syntax" : "other" });
  switch (found.kind) {
    case "aborted":
      return fail("request was aborted", "aborted");
    case "timeout":
      return fail(`request timed out after ${timeoutMs} ms`, "timeout");
    case "http": {
      const { status, statusText, detail, retryAfterMs, quota } = found;
      const code: ProviderErrorCode = quota ? "quota_exceeded" : codeForStatus(status);
      const keepsRetryAfter = code === "rate_limited" || code === "server_error" || code === "quota_exceeded";
      const answer = `HTTP ${status}${statusText ? ` ${statusText}` : ""}`;
      const what = quota
        ? `quota or billing limit reached (${quota}; ${answer}): ${excerpt(detail, apiKey)}`
        : `answered ${answer}: ${excerpt(detail, apiKey)}`;
      return fail(what, code, { status, retryAfterMs: keepsRetryAfter ? retryAfterMs : undefined });
    }
    case "network":
      return fail(`connection failed: ${rootMessage(error, apiKey)}`, "network");
    case "syntax":
      return fail("sent a response body that is not JSON", "malformed_output");
    case "other":
      return fail(
        `request failed: ${excerpt(error instanceof Error ? error.message : String(error), apiKey)}`,
        "unknown",
      );
  }
}

/** How the OpenAI adapter asks for structured output (`OPENAI_STRUCTURED_OUTPUTS`). */
export const STRUCTURED_OUTPUTS = ["json_schema", "json_object"] as const;
export type StructuredOutputs = (typeof STRUCTURED_OUTPUTS)[number];
