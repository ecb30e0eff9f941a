import type { FailureCode } from "./status.ts";

/**
 * The base of the engine's own errors: a stable `code`, whether trying again can help, and the
 * failure code a session that ends with it is stored with. Match with `instanceof`, never by message.
 */
export class EngineError extends Error {
  readonly code: string;
  readonly isRetryable: boolean;
  readonly failure: FailureCode;

  constructor(
    message: string,
    options: { code: string; isRetryable: boolean; failure: FailureCode; cause?: unknown },
  ) {
    super(message, { cause: options.cause });
    this.code = options.code;
    this.isRetryable = options.isRetryable;
    this.failure = options.failure;
  }
}

/** PostgreSQL or the job queue stayed unreachable for longer than the configured bound. */
export class InfrastructureError extends EngineError {
  override readonly name = "InfrastructureError";
  readonly infrastructure: Infrastructure;

  constructor(infrastructure: Infrastructure, message: string, cause?: unknown) {
    super(message, {
      code: infrastructure === "database" ? "DATABASE_UNAVAILABLE" : "QUEUE_UNAVAILABLE",
      isRetryable: false,
      failure: infrastructure === "database" ? "database" : "queue",
      cause,
    });
    this.infrastructure = infrastructure;
  }
}

/** What an infrastructure fault is a fault of. */
export type Infrastructure = "database" | "queue";
