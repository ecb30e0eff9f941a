import { FoundryError } from "@foundry/errors";

/**
 * A failure the CLI reports as one line on stderr with its own exit code. Not retryable: running the
 * same command again does not help until someone changes something.
 */
export class CliError extends FoundryError {
  override readonly name = "CliError";
  /** 1 for a failure, 2 for a usage error. */
  readonly exitCode: number;

  constructor(code: string, message: string, options: { exitCode?: number; cause?: unknown } = {}) {
    super(message, { code, isRetryable: false, cause: options.cause });
    this.exitCode = options.exitCode ?? 1;
  }
}
