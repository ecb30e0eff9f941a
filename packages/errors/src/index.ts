/** What every FoundryError carries besides its message. */
export interface FoundryErrorOptions {
  /** Stable, for logs, storage and switches (`SCREAMING_SNAKE`, e.g. `ENQUEUE_FAILED`). */
  code: string;
  /** Whether trying the same thing again later can help (a timeout, an outage), or never can (bad input). */
  isRetryable: boolean;
  cause?: unknown;
}

/**
 * The one base of every error this codebase throws on purpose: a stable `code`, whether a retry can
 * help (`isRetryable`), an optional `cause`, and `name` set to the subclass's name. Match with
 * `instanceof` (this class or a subclass), never by message text or by probing for fields.
 *
 * @example
 * class QuotaError extends FoundryError {
 *   constructor(message: string) {
 *     super(message, { code: "QUOTA_EXCEEDED", isRetryable: false });
 *   }
 * }
 */
export class FoundryError extends Error {
  readonly code: string;
  readonly isRetryable: boolean;

  constructor(message: string, options: FoundryErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = options.code;
    this.isRetryable = options.isRetryable;
  }
}

export { isPostgresFault, isPostgresUnavailable, isSocketFailure, isTransientSqlState } from "./postgres.ts";
