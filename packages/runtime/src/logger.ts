import { type Logger, pino } from "pino";

/** Keys whose values never reach a log line, wherever they appear (two levels deep). */
const SECRET_KEYS = [
  "authorization",
  "apiKey",
  "api_key",
  "token",
  "password",
  "secret",
  "cookie",
  "x-api-key",
  "x-goog-api-key",
];

/**
 * A JSON logger with secrets redacted. Without a destination it writes to `process.stdout` (not
 * pino's default SonicBoom on fd 1, whose exit-time flush retries a broken pipe forever: a process
 * whose launcher died would then never exit), and a broken stdout pipe ends the process the way
 * SIGTERM does.
 */
export function createLogger(options: {
  name: string;
  level: string;
  destination?: NodeJS.WritableStream;
}): Logger {
  const paths = SECRET_KEYS.flatMap((key) =>
    [key, `*.${key}`, `*.*.${key}`].map((path) =>
      path.includes("-") ? path.replace(key, `["${key}"]`) : path,
    ),
  );
  return pino(
    {
      name: options.name,
      level: options.level,
      redact: { paths, censor: "[redacted]" },
      base: { pid: process.pid },
    },
    (options.destination ?? stdoutUntilItBreaks()) as pino.DestinationStream,
  );
}

let watchingStdout = false;

/** `process.stdout`, with a broken pipe (EPIPE: nobody reads our output any more) treated as SIGTERM. */
function stdoutUntilItBreaks(): NodeJS.WritableStream {
  if (!watchingStdout) {
    watchingStdout = true;
    let told = false;
    process.stdout.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code !== "EPIPE") throw error;
      if (told) return;
      told = true;
      process.kill(process.pid, "SIGTERM");
    });
  }
  return process.stdout;
}

export type { Logger };
