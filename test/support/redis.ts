// Redis helpers for tests: one server per run (see global-setup.ts), isolated by key prefix.
//
//   const prefix = uniquePrefix();          // pass as BullMQ's `prefix` option
//   afterAll(() => deleteKeysWithPrefix(prefix));
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { inject } from "vitest";
import { deleteKeysWithPrefix as deleteKeys } from "./cluster.ts";
import type { TestServices } from "./global-setup.ts";

/** The run's Redis URL. */
export function redisUrl(): TestServices["redisUrl"] {
  const url = inject("redisUrl");
  if (url === undefined)
    throw new Error("No test services: test/support/global-setup.ts must be listed in vitest's globalSetup");
  if (!url) throw new Error("No Redis in this run (no REDIS_URL, no redis-server): skip with hasRedis()");
  return url;
}

/** Whether this run has a Redis (tests of Redis itself skip without one, saying so). */
export function hasRedis(): boolean {
  return Boolean(inject("redisUrl"));
}

/** For `describe.skipIf(noRedis("what"))`: true, with the reason printed, when the run has no Redis. */
export function noRedis(what: string): boolean {
  if (hasRedis()) return false;
  console.warn(`skipped: ${what} (no Redis in this run: set REDIS_URL or install redis-server)`);
  return true;
}

/**
 * A prefix no other test uses, e.g. `test-3f2c…`. BullMQ names its keys `<prefix>:<queue>:…`, so
 * `deleteKeysWithPrefix(prefix)` removes everything a test's queues wrote. It contains no `:` (BullMQ
 * joins with it) and no glob characters.
 */
export function uniquePrefix(): string {
  return `test-${randomUUID()}`;
}

/**
 * Deletes every key that starts with `prefix` (SCAN + UNLINK, never KEYS) and returns how many it deleted.
 * Uses `client` when given, else a short-lived connection to `redisUrl()`.
 */
export async function deleteKeysWithPrefix(prefix: string, client?: Redis): Promise<number> {
  const redis = client ?? new Redis(redisUrl(), { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    return await deleteKeys(redis, prefix);
  } finally {
    if (!client) redis.disconnect();
  }
}
