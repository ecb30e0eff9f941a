// Health check of a worker container: `node scripts/worker-healthcheck.ts` (docker-compose.yml runs
// it in place of the image's HTTP check, since workers serve no HTTP). Healthy when the queue store
// answers and at least one BullMQ worker connection to it comes from this container's address, i.e.
// the worker process here is up and waiting for jobs on its queues. Reads the queue settings like
// the worker (QUEUE_BACKEND, REDIS_URL, DATABASE_URL, QUEUE_PREFIX). Exit code 0 healthy, 1 not,
// with one line saying why (`docker inspect` shows it).
import { chooseQueueBackend, QUEUE_NAMES } from "@foundry/queue";
// The env subpath: @foundry/runtime's entry point loads the logger too; this needs only zod.
import { parseEnv, sharedEnv } from "@foundry/runtime/env";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import pg from "pg";
import { z } from "zod";

const TIMEOUT_MS = 5_000;

/** `10.0.0.5:41234` → `10.0.0.5` (IPv6 addresses keep their own colons). */
function hostOf(addr: string | undefined): string | undefined {
  const colon = addr?.lastIndexOf(":") ?? -1;
  return colon > 0 ? addr!.slice(0, colon) : undefined;
}

async function check(url: string, prefix: string): Promise<{ healthy: boolean; reason: string }> {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 3_000,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  let connectionError: Error | undefined;
  redis.on("error", (error: Error) => {
    connectionError = error;
  });
  try {
    try {
      await redis.connect();
      const pong = await redis.ping();
      if (pong !== "PONG") return { healthy: false, reason: `redis answered PING with ${pong}` };
    } catch (error) {
      return {
        healthy: false,
        reason: `redis does not answer: ${(connectionError ?? (error as Error)).message}`,
      };
    }

    // Our address as Redis sees it, comparable with the `addr` of CLIENT LIST entries.
    let self: string | undefined;
    try {
      const info = String(await redis.client("INFO"));
      self = hostOf(/(?:^|\s)addr=(\S+)/.exec(info)?.[1]);
    } catch {
      // CLIENT INFO needs Redis 6.2 and may be disabled (some managed services): cannot tell.
    }
    if (!self) return { healthy: true, reason: "redis answers; worker connections cannot be listed here" };

    // BullMQ answers a placeholder without `addr` where CLIENT LIST is refused (some managed Redis).
    let unlistable = false;
    for (const name of QUEUE_NAMES) {
      const queue = new Queue(name, { connection: redis, prefix });
      try {
        const workers = (await queue.getWorkers()) as { addr?: string }[];
        if (workers.some((worker) => hostOf(worker.addr) === self)) {
          return { healthy: true, reason: `worker connected to redis and consuming "${name}"` };
        }
        if (workers.some((worker) => worker.addr === undefined)) unlistable = true;
      } finally {
        await queue.close();
      }
    }
    return unlistable
      ? { healthy: true, reason: "redis answers; worker connections cannot be listed here" }
      : { healthy: false, reason: `no BullMQ worker connection from this container (${self}) on any queue` };
  } finally {
    redis.disconnect();
  }
}

/** On PostgreSQL each BullMQ worker holds a LISTEN connection named after its queue. */
async function checkPostgres(url: string): Promise<{ healthy: boolean; reason: string }> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3_000 });
  client.on("error", () => {});
  try {
    await client.connect();
  } catch (error) {
    return { healthy: false, reason: `postgres does not answer: ${(error as Error).message}` };
  }
  try {
    const { rows } = await client.query<{ application_name: string }>(
      `SELECT application_name FROM pg_stat_activity
       WHERE datname = current_database() AND application_name = ANY($1)
         AND client_addr IS NOT DISTINCT FROM inet_client_addr()`,
      [[...QUEUE_NAMES]],
    );
    return rows[0]
      ? { healthy: true, reason: `worker connected to postgres and consuming "${rows[0].application_name}"` }
      : { healthy: false, reason: "no BullMQ worker connection from this container on any queue" };
  } finally {
    await client.end();
  }
}

const timer = setTimeout(() => {
  console.error(`unhealthy: no answer from the queue store within ${TIMEOUT_MS} ms`);
  process.exit(1);
}, TIMEOUT_MS);
timer.unref();

try {
  const env = parseEnv(
    z.object({
      REDIS_URL: sharedEnv.REDIS_URL,
      QUEUE_PREFIX: sharedEnv.QUEUE_PREFIX,
      QUEUE_BACKEND: sharedEnv.QUEUE_BACKEND,
      DATABASE_URL: sharedEnv.DATABASE_URL.optional(),
      REDIS_CLUSTER: sharedEnv.REDIS_CLUSTER,
    }),
    process.env,
  );
  const backend = chooseQueueBackend(env);
  const { healthy, reason } =
    backend.kind === "redis" ? await check(backend.url, backend.prefix) : await checkPostgres(backend.url);
  console.log(`${healthy ? "healthy" : "unhealthy"}: ${reason}`);
  process.exit(healthy ? 0 : 1);
} catch (error) {
  console.error(`unhealthy: ${(error as Error).message}`);
  process.exit(1);
}
