/** A failure the CLI reports as one line on stderr with its own exit code. */
export class CliError extends Error {
  override readonly name = "CliError";
  readonly code: string;
  /** 1 for a failure, 2 for a usage error. */
  readonly exitCode: number;

  constructor(code: string, message: string, options: { exitCode?: number; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.code = code;
    this.exitCode = options.exitCode ?? 1;
  }
}
