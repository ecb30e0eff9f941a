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

/** A JSON logger with secrets redacted. */
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
    options.destination as pino.DestinationStream | undefined,
  );
}

export type { Logger };
