import { z } from "zod";

// Environment variables several processes share. Each app composes its own schema from these and
// parses it once at start-up; packages never read process.env.

export const sharedEnv = {
  DATABASE_URL: z
    .string({ error: "DATABASE_URL is required (postgresql://user@host:5432/db)" })
    .regex(/^postgres(ql)?:\/\//, "expected a postgresql:// URL"),
  REDIS_URL: z
    .string({ error: "REDIS_URL is required (redis://host:6379)" })
    .regex(/^rediss?:\/\//, "expected a redis:// URL"),
  /** BullMQ key prefix; on Redis Cluster use a hash tag such as {foundry}. */
  QUEUE_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_{}-]+$/, "letters, digits, _, -, { and } only")
    .default("foundry"),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
};

/** An environment that cannot be used; the message names every bad variable. */
export class EnvError extends Error {
  override readonly name = "EnvError";
  readonly code = "INVALID_ENVIRONMENT";
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
