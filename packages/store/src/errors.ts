import { FoundryError, type FoundryErrorOptions } from "@foundry/errors";
import type { FailureCode } from "./status.ts";

/**
 * An engine error that also says which failure code a session that ends with it is stored with.
 * Match with `instanceof`, never by message.
 */
export class EngineError extends FoundryError {
  readonly failure: FailureCode;

  constructor(message: string, options: FoundryErrorOptions & { failure: FailureCode }) {
    super(message, options);
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
