// The queues of a test, on the backend the run asks for: TEST_QUEUE_BACKEND=postgres puts them in
// BullMQ's tables in the test's own database (`npm run test:postgres`); otherwise Redis under a
// unique prefix.
//
//   const queues = await openTestQueues({ databaseUrl: db.url });
//   afterAll(() => closeTestQueues(queues));
import { openQueueConnection, type QueueBackend, type QueueBackendKind, QueueSet } from "@foundry/queue";
import { deleteKeysWithPrefix, hasRedis, redisUrl, uniquePrefix } from "./redis.ts";

/** The queue backend of this run: TEST_QUEUE_BACKEND, else `redis` when the run has one, else `postgres`. */
export function testQueueBackend(): QueueBackendKind {
  const value = process.env.TEST_QUEUE_BACKEND ?? (hasRedis() ? "redis" : "postgres");
  if (value !== "redis" && value !== "postgres") {
    throw new Error(`TEST_QUEUE_BACKEND: expected redis or postgres, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** The backend a test's queues use: the run's, in the test's database or under `prefix`. */
export function testBackend(options: { databaseUrl: string; prefix?: string }): QueueBackend {
  return testQueueBackend() === "postgres"
    ? { kind: "postgres", url: options.databaseUrl }
    : { kind: "redis", url: redisUrl(), prefix: options.prefix ?? uniquePrefix(), cluster: false };
}

/** A QueueSet on the run's backend (workers and producers alike use it in tests). */
export async function openTestQueues(options: {
  databaseUrl: string;
  prefix?: string;
  role?: "producer" | "worker";
}): Promise<QueueSet> {
  const connection = await openQueueConnection(testBackend(options), { role: options.role ?? "worker" });
  return new QueueSet(connection);
}

/** Closes `queues` and removes what they stored (Redis keys; a PostgreSQL test drops its database). */
export async function closeTestQueues(queues: QueueSet): Promise<void> {
  const { backend } = queues.connection;
  await queues.close();
  if (backend.kind === "redis") await deleteKeysWithPrefix(backend.prefix);
}

/** The environment a worker process needs to reach the same queues as `queues`. */
export function queueEnv(queues: QueueSet): Record<string, string> {
  const { backend } = queues.connection;
  return backend.kind === "redis"
    ? {
        QUEUE_BACKEND: "redis",
        REDIS_URL: backend.url,
        QUEUE_PREFIX: backend.prefix,
        REDIS_CLUSTER: String(backend.cluster),
      }
    : { QUEUE_BACKEND: "postgres" };
}

/**
 * Deletes everything the queue store holds for `queues` while they stay open, as a Redis FLUSHALL
 * (or a restored PostgreSQL backup without BullMQ's tables) would: jobs, flows, limiter state.
 */
export async function forgetQueueContents(queues: QueueSet): Promise<void> {
  const { backend, pool } = queues.connection;
  if (backend.kind === "redis") {
    await deleteKeysWithPrefix(backend.prefix);
    return;
  }
  // TRUNCATE takes its tables' locks one after another while the workers hold row locks on them: when
  // PostgreSQL picks it as a deadlock's victim nothing was truncated, so it tries again.
  for (let attempt = 1; ; attempt += 1) {
    try {
      await pool?.query("TRUNCATE job, meta, rate_limit CASCADE");
      return;
    } catch (error) {
      if ((error as { code?: unknown }).code !== DEADLOCK_DETECTED || attempt === 5) throw error;
    }
  }
}

const DEADLOCK_DETECTED = "40P01";
