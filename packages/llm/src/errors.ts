import { FoundryError } from "@foundry/errors";
import type { ProviderName } from "./types.ts";

/**
 * Why a provider call failed, stable for logs, storage and switches.
 * - `rate_limited`: 429; `retryAfterMs` says when to try again (as the provider said it, however long).
 * - `quota_exceeded`: the account's quota, credit or spend limit is used up (OpenAI
 *   `insufficient_quota`, Anthropic `billing_error` or "credit balance is too low", a Gemini per-day
 *   quota). Not retryable: waiting minutes does not help; someone has to pay or raise a limit.
 * - `server_error`: 5xx or 529 overloaded.
 * - `timeout` / `network`: no answer.
 * - `auth`: 401/403 (missing or bad key). `bad_request`: 400/404/422.
 * - `malformed_output`: the answer is not JSON. `schema_violation`: JSON that breaks the schema.
 * - `aborted`: cancelled by our own AbortSignal.
 */
export type ProviderErrorCode =
  | "rate_limited"
  | "quota_exceeded"
  | "server_error"
  | "timeout"
  | "network"
  | "auth"
  | "bad_request"
  | "malformed_output"
  | "schema_violation"
  | "aborted"
  | "unknown";

const RETRYABLE: ReadonlySet<ProviderErrorCode> = new Set([
  "rate_limited",
  "server_error",
  "timeout",
  "network",
  "malformed_output",
  "schema_violation",
  "unknown",
]);

export interface ProviderErrorOptions {
  provider: ProviderName;
  code: ProviderErrorCode;
  status?: number;
  retryAfterMs?: number;
  /** The raw text that failed validation, for the journal. */
  text?: string;
  /** Usage of a request that was answered but unusable (still billed). */
  usage?: { inputTokens: number; outputTokens: number };
  cause?: unknown;
}

/**
 * A failed provider call. Messages never contain API keys. `isRetryable` follows from `code` (AI SDK's
 * rule: 408/409/429/5xx, plus bad output); the codes stay lower-case because the journal stores them.
 */
export class ProviderError extends FoundryError {
  override readonly name = "ProviderError";
  declare readonly code: ProviderErrorCode;
  readonly provider: ProviderName;
  readonly status: number | undefined;
  readonly retryAfterMs: number | undefined;
  readonly text: string | undefined;
  readonly usage: { inputTokens: number; outputTokens: number } | undefined;

  constructor(message: string, options: ProviderErrorOptions) {
    super(message, { code: options.code, isRetryable: RETRYABLE.has(options.code), cause: options.cause });
    this.provider = options.provider;
    this.status = options.status;
    this.retryAfterMs = options.retryAfterMs;
    this.text = options.text;
    this.usage = options.usage;
  }

  static is(value: unknown): value is ProviderError {
    return value instanceof ProviderError;
  }
}

/** Maps an HTTP status to an error code the way every adapter does. */
export function codeForStatus(status: number | undefined): ProviderErrorCode {
  if (status === undefined) return "network";
  if (status === 429) return "rate_limited";
  if (status === 408) return "timeout";
  if (status === 401 || status === 403) return "auth";
  if (status === 409 || status >= 500) return "server_error";
  if (status >= 400) return "bad_request";
  return "unknown";
}

/**
 * Parses a `retry-after` header (seconds or an HTTP date) or `retry-after-ms` into milliseconds.
 * Returns undefined when absent or unreadable.
 */
export function parseRetryAfter(
  retryAfter: string | null | undefined,
  retryAfterMs?: string | null,
  now: number = Date.now(),
): number | undefined {
  if (retryAfterMs) {
    const ms = Number(retryAfterMs);
    if (Number.isFinite(ms) && ms >= 0) return Math.ceil(ms);
  }
  if (!retryAfter) return undefined;
  const seconds = Number(retryAfter);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.ceil(seconds * 1000);
  const date = Date.parse(retryAfter);
  if (Number.isFinite(date)) return Math.max(0, date - now);
  return undefined;
}
