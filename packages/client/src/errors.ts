import { FoundryError } from "@foundry/errors";

/** Why a request to the API did not give the caller what it asked for. */
export type ApiRequestErrorCode =
  /** No connection: refused, DNS, reset. */
  | "UNREACHABLE"
  /** No answer within the timeout. */
  | "TIMEOUT"
  /** 401: the token is missing or wrong. */
  | "UNAUTHORIZED"
  /** Another 4xx: the API's message says what to change. */
  | "REJECTED"
  /** 5xx. */
  | "SERVER_ERROR"
  /** An answer that is not what this API sends (another server on that port?). */
  | "BAD_RESPONSE";

/**
 * A failed API request. `message` is one line a person can act on; it never contains the token.
 * `isRetryable`: trying again later can help (as the AI SDK derives it: no answer, 408/409/429/5xx).
 */
export class ApiRequestError extends FoundryError {
  override readonly name = "ApiRequestError";
  declare readonly code: ApiRequestErrorCode;
  /** The HTTP status, when the API answered. */
  readonly status: number | null;
  /** The API's own error code (`NOT_FOUND`, `INVALID_REQUEST`…), when it sent one. */
  readonly apiCode: string | null;
  /** The error body the API sent with a 4xx (`{ error: { code, message, details } }`), if any. */
  readonly body: unknown;

  constructor(
    code: ApiRequestErrorCode,
    message: string,
    options: { status?: number; apiCode?: string; body?: unknown; cause?: unknown } = {},
  ) {
    super(message, { code, isRetryable: isRetryableRequest(code, options.status), cause: options.cause });
    this.status = options.status ?? null;
    this.apiCode = options.apiCode ?? null;
    this.body = options.body;
  }
}

function isRetryableRequest(code: ApiRequestErrorCode, status: number | undefined): boolean {
  if (code === "UNREACHABLE" || code === "TIMEOUT") return true;
  const answered = status ?? 0;
  return answered === 408 || answered === 409 || answered === 429 || answered >= 500;
}
