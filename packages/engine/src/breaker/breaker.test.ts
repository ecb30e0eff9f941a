import { setTimeout as sleep } from "node:timers/promises";
import { type BreakerStore, PostgresBreakerStore } from "@foundry/store";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../../../test/support/db.ts";
import { deleteKeysWithPrefix, noRedis, redisUrl, uniquePrefix } from "../../../../test/support/redis.ts";
import { RedisBreakerStore } from "./redis-breaker.ts";

// The same behaviour from both stores, on the real servers.
const settings = { failureThreshold: 3, cooldownMs: 400 };

const kinds = noRedis("the circuit breaker in Redis")
  ? (["postgres"] as const)
  : (["postgres", "redis"] as const);

describe.each(kinds)("circuit breaker in %s", (kind) => {
  let store: BreakerStore;
  let db: TestDatabase | undefined;
  let redis: Redis | undefined;
  const prefix = uniquePrefix();
  beforeAll(async () => {
    if (kind === "postgres") {
      db = await createTestDatabase();
      store = new PostgresBreakerStore(db.prisma);
    } else {
      redis = new Redis(redisUrl());
      store = new RedisBreakerStore(redis, prefix);
    }
  });
  afterAll(async () => {
    await db?.drop();
    if (redis) {
      await deleteKeysWithPrefix(prefix, redis);
      redis.disconnect();
    }
  });

  it("opens after a run of failures, lets one probe through after the cool-down, and closes on its success", async () => {
    const key = "anthropic/claude-a";
    expect(await store.admit(key, settings)).toEqual({ allowed: true, probe: false, clean: true });
    expect(await store.failure(key, "HTTP 500", settings)).toEqual({ state: "closed", opened: false });
    // Closed with a failure counted: not clean, so the next success is reported and resets it.
    expect(await store.admit(key, settings)).toEqual({ allowed: true, probe: false, clean: false });
    expect(await store.failure(key, "HTTP 503", settings)).toEqual({ state: "closed", opened: false });
    expect(await store.failure(key, "timed out", settings)).toEqual({ state: "open", opened: true });
    const denied = await store.admit(key, settings);
    expect(denied).toMatchObject({ allowed: false, lastError: "timed out" });
    if (denied.allowed) throw new Error("unreachable");
    expect(denied.retryAt.getTime() - denied.openedAt.getTime()).toBeGreaterThanOrEqual(350);

    await sleep(settings.cooldownMs + 50);
    // Exactly one of many concurrent callers gets the probe.
    const admissions = await Promise.all(Array.from({ length: 12 }, () => store.admit(key, settings)));
    expect(admissions.filter((a) => a.allowed && a.probe)).toHaveLength(1);
    expect(admissions.filter((a) => !a.allowed)).toHaveLength(11);
    // The probe fails: open again for another cool-down.
    expect(await store.failure(key, "HTTP 500 again", settings)).toEqual({ state: "open", opened: true });
    expect((await store.admit(key, settings)).allowed).toBe(false);

    await sleep(settings.cooldownMs + 50);
    expect(await store.admit(key, settings)).toEqual({ allowed: true, probe: true, clean: false });
    expect(await store.success(key)).toBe(true);
    expect(await store.admit(key, settings)).toEqual({ allowed: true, probe: false, clean: true });
    expect(await store.success(key)).toBe(false);
  });

  it("resets the count on a success, and replaces a probe whose worker never reported", async () => {
    const key = "gemini/model-b";
    await store.failure(key, "HTTP 500", settings);
    await store.failure(key, "HTTP 500", settings);
    expect(await store.admit(key, settings)).toEqual({ allowed: true, probe: false, clean: false });
    expect(await store.success(key)).toBe(false);
    expect(await store.admit(key, settings)).toEqual({ allowed: true, probe: false, clean: true });
    expect(await store.failure(key, "HTTP 500", settings)).toEqual({ state: "closed", opened: false });
    await store.failure(key, "HTTP 500", settings);
    expect((await store.failure(key, "HTTP 500", settings)).opened).toBe(true);
    await sleep(settings.cooldownMs + 50);
    expect(await store.admit(key, settings)).toEqual({ allowed: true, probe: true, clean: false });
    // Its worker died: nobody reports; after another cool-down a new probe may go.
    expect((await store.admit(key, settings)).allowed).toBe(false);
    await sleep(settings.cooldownMs + 50);
    expect(await store.admit(key, settings)).toEqual({ allowed: true, probe: true, clean: false });
  });

  it("keeps breakers of different models apart", async () => {
    for (let i = 0; i < 3; i++) await store.failure("openai/one", "HTTP 500", settings);
    expect((await store.admit("openai/one", settings)).allowed).toBe(false);
    expect(await store.admit("openai/two", settings)).toEqual({ allowed: true, probe: false, clean: true });
  });
});
