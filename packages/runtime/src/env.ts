import { FoundryError } from "@foundry/errors";
import { z } from "zod";

// Environment variables several processes share. Each app composes its own schema from these and
// parses it once at start-up; packages never read process.env.

export const sharedEnv = {
  DATABASE_URL: z
    .string({ error: "DATABASE_URL is required (postgresql://user@host:5432/db)" })
    .regex(/^postgres(ql)?:\/\//, "expected a postgresql:// URL"),
  /** Where the queues run when set (unless QUEUE_BACKEND=postgres); unset: PostgreSQL on DATABASE_URL. */
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, "expected a redis:// URL")
    .optional(),
  /** `redis` or `postgres`; checked (with what each needs) by @foundry/queue's chooseQueueBackend. */
  QUEUE_BACKEND: z.string().optional(),
  /** `true`: REDIS_URL is one node of a Redis Cluster. */
  REDIS_CLUSTER: z.enum(["true", "false"]).default("false"),
  /** BullMQ key prefix; on Redis Cluster use a hash tag such as {foundry}. */
  QUEUE_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_{}-]+$/, "letters, digits, _, -, { and } only")
    .default("foundry"),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
};

/**
 * Where a process serves `GET /metrics` without authentication: unset, the API serves its metrics
 * only behind the token at /metrics and a worker serves none. Loopback by default, since anyone who
 * reaches the port reads them.
 */
export const metricsEnv = {
  METRICS_PORT: z.coerce.number().int().min(0).max(65_535).optional(),
  METRICS_HOST: z.string().min(1).default("127.0.0.1"),
};

/** An environment that cannot be used; the message names every bad variable. */
export class EnvError extends FoundryError {
  override readonly name = "EnvError";

  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { code: "INVALID_ENVIRONMENT", isRetryable: false, ...options });
  }
}

/** Parses `env` with `schema` or throws an EnvError listing each variable and what was expected. */
export function parseEnv<T extends z.ZodType>(
  schema: T,
  env: Record<string, string | undefined>,
): z.infer<T> {
  // `NAME=` (as an .env file or docker compose passes an unused setting) means unset, not "".
  const parsed = schema.safeParse(
    Object.fromEntries(Object.entries(env).filter(([, value]) => value !== "")),
  );
  if (!parsed.success) {
    const lines = parsed.error.issues.map(
      (issue) => `  ${issue.path.join(".") || "(environment)"}: ${issue.message}`,
    );
    throw new EnvError(`invalid environment:\n${lines.join("\n")}`);
  }
  return parsed.data;
}

const DURATION_UNITS: Record<string, number> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  min: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/**
 * Parses a duration such as `7d`, `1h`, `30m`, `90s`, `500ms` or `1.5h` into milliseconds; a bare number is
 * seconds. Returns null when `text` is not one.
 */
export function parseDuration(text: string): number | null {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|min|h|d)?\s*$/.exec(text);
  if (!match) return null;
  const ms = Number(match[1]) * (DURATION_UNITS[match[2] ?? "s"] as number);
  return Number.isFinite(ms) && ms > 0 ? Math.round(ms) : null;
}

/** An environment variable holding a duration (see parseDuration), as milliseconds. */
export function durationEnv(fallback: string) {
  return z
    .string()
    .default(fallback)
    .transform((text, ctx) => {
      const ms = parseDuration(text);
      if (ms === null) {
        ctx.addIssue({
          code: "custom",
          message: `expected a duration such as 1h, 30m, 90s or 500ms, got "${text}"`,
        });
        return z.NEVER;
      }
      return ms;
    });
}
