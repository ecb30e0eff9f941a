// Which store BullMQ runs on. One setting decides (QUEUE_BACKEND); above this layer nothing knows.

import { FoundryError } from "@foundry/errors";

export const QUEUE_BACKENDS = ["redis", "postgres"] as const;
export type QueueBackendKind = (typeof QUEUE_BACKENDS)[number];

/** BullMQ's tables live in this schema of the PostgreSQL database, next to ours (in `public`). */
export const POSTGRES_QUEUE_SCHEMA = "bullmq";

export type QueueBackend =
  | {
      kind: "redis";
      url: string;
      /** BullMQ's key prefix; on Redis Cluster a hash tag such as `{foundry}`. */
      prefix: string;
      /** A Redis Cluster reached through `url` (any of its nodes). */
      cluster: boolean;
    }
  | { kind: "postgres"; url: string };

/** A queue setting that cannot work; the message names the variable and what is expected. */
export class QueueBackendError extends FoundryError {
  override readonly name = "QueueBackendError";

  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { code: "INVALID_QUEUE_BACKEND", isRetryable: false, ...options });
  }
}

export interface QueueBackendEnv {
  QUEUE_BACKEND?: string;
  REDIS_URL?: string;
  DATABASE_URL?: string;
  QUEUE_PREFIX?: string;
  REDIS_CLUSTER?: string;
}

/**
 * The backend the environment asks for: `QUEUE_BACKEND` when set; otherwise Redis when `REDIS_URL`
 * is set, else PostgreSQL on `DATABASE_URL` (BullMQ's tables in the `bullmq` schema).
 * @throws QueueBackendError for an unknown value, Redis without `REDIS_URL`, or a Redis Cluster
 *   whose prefix has no hash tag (its keys would spread over slots the limiter cannot script across)
 */
export function chooseQueueBackend(env: QueueBackendEnv): QueueBackend {
  const requested = env.QUEUE_BACKEND?.trim() || undefined;
  if (requested !== undefined && !(QUEUE_BACKENDS as readonly string[]).includes(requested)) {
    throw new QueueBackendError(
      `QUEUE_BACKEND: expected "redis" or "postgres", got ${JSON.stringify(requested)}`,
    );
  }
  const kind = (requested as QueueBackendKind | undefined) ?? (env.REDIS_URL ? "redis" : "postgres");
  if (kind === "postgres") {
    if (!env.DATABASE_URL) {
      throw new QueueBackendError(
        "QUEUE_BACKEND=postgres needs DATABASE_URL (postgresql://user@host:5432/db); BullMQ's tables go in its schema bullmq",
      );
    }
    return { kind, url: env.DATABASE_URL };
  }
  if (!env.REDIS_URL) {
    throw new QueueBackendError(
      "QUEUE_BACKEND=redis needs REDIS_URL (redis://host:6379); without Redis, leave QUEUE_BACKEND unset or set it to postgres",
    );
  }
  const cluster = env.REDIS_CLUSTER === "true";
  const prefix = env.QUEUE_PREFIX ?? "foundry";
  if (cluster && !/^\{[^{}]+\}/.test(prefix)) {
    throw new QueueBackendError(
      `QUEUE_PREFIX: on Redis Cluster (REDIS_CLUSTER=true) it must start with a hash tag such as {foundry}, got ${JSON.stringify(prefix)}`,
    );
  }
  if (cluster && /^\/\d*[1-9]/.test(new URL(env.REDIS_URL).pathname)) {
    throw new QueueBackendError(
      `REDIS_URL: Redis Cluster has only database 0, got ${JSON.stringify(new URL(env.REDIS_URL).pathname.slice(1))}`,
    );
  }
  return { kind, url: env.REDIS_URL, prefix, cluster };
}

/** One line for logs and the demo: `postgres (schema bullmq)`, `redis redis://host:6379/0 (prefix foundry)`. */
export function describeQueueBackend(backend: QueueBackend): string {
  if (backend.kind === "postgres") return `postgres (schema ${POSTGRES_QUEUE_SCHEMA})`;
  const where = redactUrl(backend.url);
  return `redis${backend.cluster ? " cluster" : ""} ${where} (prefix ${backend.prefix})`;
}

function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(unparsable URL)";
  }
}
