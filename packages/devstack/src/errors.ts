import { FoundryError } from "@foundry/errors";

export type DevstackErrorCode =
  | "REDIS_NOT_FOUND"
  | "POSTGRES_BINARIES_UNUSABLE"
  | "DATA_DIR_IN_USE"
  | "SERVER_START_FAILED";

/** Base class of this package's errors. None of them goes away by retrying the same call. */
export class DevstackError extends FoundryError {
  override name = "DevstackError";
  declare readonly code: DevstackErrorCode;

  constructor(code: DevstackErrorCode, message: string, options?: ErrorOptions) {
    super(message, { code, isRetryable: false, cause: options?.cause });
  }
}

/** No `redis-server` executable on PATH or in the usual install locations. */
export class RedisNotFoundError extends DevstackError {
  override name = "RedisNotFoundError";

  constructor(searched: readonly string[]) {
    super(
      "REDIS_NOT_FOUND",
      [
        `redis-server was not found (looked in: ${searched.join(", ") || "nothing"}). Either install it:`,
        "  Debian/Ubuntu:  sudo apt-get install redis-server",
        "  Fedora/RHEL:    sudo dnf install redis",
        "  macOS:          brew install redis",
        "or run Redis yourself, e.g. `docker compose up -d redis`, and set REDIS_URL (e.g. redis://localhost:6379).",
      ].join("\n"),
    );
  }
}

/** The embedded PostgreSQL binaries are missing or cannot run (usually: the install script was skipped). */
export class PostgresBinariesError extends DevstackError {
  override name = "PostgresBinariesError";

  constructor(message: string, options?: ErrorOptions) {
    super("POSTGRES_BINARIES_UNUSABLE", message, options);
  }
}

/** Another live process is using the server in this data directory. */
export class DataDirInUseError extends DevstackError {
  override name = "DataDirInUseError";
  readonly ownerPid: number;
  readonly serverPid: number;

  constructor(dataDir: string, ownerPid: number, serverPid: number) {
    super(
      "DATA_DIR_IN_USE",
      `${dataDir} is in use: process ${ownerPid} runs a server (pid ${serverPid}) on it. ` +
        "Stop that process or use another data directory.",
    );
    this.ownerPid = ownerPid;
    this.serverPid = serverPid;
  }
}

/** The server exited or did not become ready; `output` holds its last lines. */
export class ServerStartError extends DevstackError {
  override name = "ServerStartError";
  readonly output: string;

  constructor(message: string, output: string, options?: ErrorOptions) {
    super("SERVER_START_FAILED", output ? `${message}\n--- server output ---\n${output}` : message, options);
    this.output = output;
  }
}
