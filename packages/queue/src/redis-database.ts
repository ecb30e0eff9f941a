import { FoundryError } from "@foundry/errors";
import { Redis } from "ioredis";
import type { QueueBackend } from "./backend.ts";

/** The Redis URL names a database the server does not have (or not a database index at all). */
export class RedisDatabaseError extends FoundryError {
  override readonly name = "RedisDatabaseError";

  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { code: "REDIS_DATABASE_MISSING", isRetryable: false, ...options });
  }
}

export type RedisDatabaseCheck =
  | { checked: true; db: number }
  /** Redis could not be reached in time; the index is checked by nobody (the caller should say so). */
  | { checked: false; db: number; reason: string };

/** The database index a `redis://` URL names: its path (`/3`), else its `db` query parameter, else 0. */
function redisDatabaseIndex(url: string): number {
  const parsed = new URL(url);
  // ioredis reads the path first, then `?db=`: the same order here.
  const text = parsed.pathname.length > 1 ? parsed.pathname.slice(1) : (parsed.searchParams.get("db") ?? "0");
  if (!/^\d{1,9}$/.test(text)) {
    throw new RedisDatabaseError(
      `${JSON.stringify(text)} is not a database index (expected redis://host:port/<number>, e.g. /0)`,
    );
  }
  return Number(text);
}

/**
 * Checks at start-up that the Redis server has the database the URL names. Without this, ioredis
 * only emits an error when `SELECT` fails and carries on in database 0 — sharing keys with whatever
 * else uses it. Database 0 always exists, so a URL without an index needs no connection at all.
 *
 * @throws RedisDatabaseError when the server refuses the index (or the URL names no index).
 * @returns `{ checked: false, reason }` when Redis cannot be reached within `timeoutMs`: the
 *   processes ride out a Redis that is not up yet, so the caller logs that and goes on.
 */
export async function checkRedisDatabase(
  url: string,
  options: { timeoutMs?: number } = {},
): Promise<RedisDatabaseCheck> {
  const db = redisDatabaseIndex(url);
  if (db === 0) return { checked: true, db };
  const client = new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: options.timeoutMs ?? 5_000,
  });
  // ioredis reports its own failed SELECT on connect as an event; the explicit one below decides.
  client.on("error", () => {});
  try {
    try {
      await client.connect();
    } catch (error) {
      return { checked: false, db, reason: (error as Error).message };
    }
    try {
      await client.select(db);
    } catch (error) {
      const where = `${client.options.host}:${client.options.port}`;
      const count = await databaseCount(client);
      const has = count === null ? "" : `; it has ${count} (0–${count - 1})`;
      throw new RedisDatabaseError(
        `the Redis server at ${where} has no database ${db} (${(error as Error).message})${has}. Use an index it has, or raise "databases" in its redis.conf`,
      );
    }
    return { checked: true, db };
  } finally {
    client.disconnect();
  }
}

/** The server's `databases` setting, when it lets us read it (managed services often do not). */
async function databaseCount(client: Redis): Promise<number | null> {
  try {
    const reply = (await client.config("GET", "databases")) as string[];
    const count = Number(reply[1]);
    return Number.isInteger(count) && count > 0 ? count : null;
  } catch {
    return null;
  }
}

/**
 * The start-up check of a process whose queues may be on Redis: for a single Redis (a cluster has
 * only database 0), refuses a `REDIS_URL` naming a database the server does not have, and warns when
 * Redis is not reachable yet (the process rides that out).
 * @throws Error naming `REDIS_URL`
 */
export async function checkQueueRedis(
  backend: QueueBackend,
  log: { warn(fields: object, message: string): void },
): Promise<void> {
  if (backend.kind !== "redis" || backend.cluster) return;
  const redisDatabase = await checkRedisDatabase(backend.url).catch((error: Error) => {
    throw new Error(`REDIS_URL: ${error.message}`, { cause: error });
  });
  if (!redisDatabase.checked) {
    log.warn(
      { db: redisDatabase.db },
      `REDIS_URL: Redis is not reachable yet (${redisDatabase.reason}); database ${redisDatabase.db} was not checked`,
    );
  }
}
