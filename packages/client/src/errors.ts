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

/** A failed API request. `message` is one line a person can act on; it never contains the token. */
export class ApiRequestError extends Error {
  override readonly name = "ApiRequestError";
  readonly code: ApiRequestErrorCode;
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
    super(message, { cause: options.cause });
    this.code = code;
    this.status = options.status ?? null;
    this.apiCode = options.apiCode ?? null;
    this.body = options.body;
  }

  /** Whether trying again later can help (as the AI SDK derives it: no answer, 408/409/429/5xx). */
  get isRetryable(): boolean {
    if (this.code === "UNREACHABLE" || this.code === "TIMEOUT") return true;
    const status = this.status ?? 0;
    return status === 408 || status === 409 || status === 429 || status >= 500;
  }
}
