import { setTimeout as sleep } from "node:timers/promises";
import {
  type BreakerStore,
  type CallGate,
  PostgresBreakerStore,
  PostgresCallGate,
  PostgresSlidingWindowLimiter,
  type RateLimiter,
} from "@foundry/store";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../../../test/support/db.ts";
import { deleteKeysWithPrefix, noRedis, redisUrl, uniquePrefix } from "../../../../test/support/redis.ts";
import { RedisBreakerStore } from "../breaker/redis-breaker.ts";
import { SlidingWindowLimiter } from "./rate-limit.ts";
import { RedisCallGate } from "./redis-call-gate.ts";

// The gate asks a call's breaker and then the limiter in one round trip. It must behave exactly as
// the breaker's admit followed (only when it admits) by the limiter's acquire, on the same state.
const settings = { failureThreshold: 1, cooldownMs: 400 };

const kinds = noRedis("the call gate in Redis") ? (["postgres"] as const) : (["postgres", "redis"] as const);

describe.each(kinds)("call gate in %s", (kind) => {
  let gate: CallGate;
  let breakers: BreakerStore;
  let limiter: RateLimiter;
  let db: TestDatabase | undefined;
  let redis: Redis | undefined;
  const prefix = uniquePrefix();
  beforeAll(async () => {
    if (kind === "postgres") {
      db = await createTestDatabase();
      gate = new PostgresCallGate(db.prisma, { marginMs: 0 });
      breakers = new PostgresBreakerStore(db.prisma);
      limiter = new PostgresSlidingWindowLimiter(db.prisma, { marginMs: 0 });
    } else {
      redis = new Redis(redisUrl());
      gate = new RedisCallGate(redis, prefix, { marginMs: 0 });
      breakers = new RedisBreakerStore(redis, prefix);
      limiter = new SlidingWindowLimiter(redis, prefix, { marginMs: 0 });
    }
  });
  afterAll(async () => {
    await db?.drop();
    if (redis) {
      await deleteKeysWithPrefix(prefix, redis);
      redis.disconnect();
    }
  });

  const request = (name: string, max: number, id: string, tokens = 0) => ({
    name,
    limits: { requests: { max, windowMs: 5_000 } },
    reservation: { id, tokens },
  });

  it("admits through a closed breaker and takes a slot in the limiter's window, which the limiter shares", async () => {
    const key = "openai/gate-closed";
    expect(await gate.admit({ key, settings }, request("closed", 2, "a"))).toEqual({
      breaker: { allowed: true, probe: false, clean: true },
      wait: 0,
    });
    expect(await gate.admit({ key, settings }, request("closed", 2, "b"))).toMatchObject({ wait: 0 });
    const refused = await gate.admit({ key, settings }, request("closed", 2, "c"));
    expect(refused.breaker.allowed).toBe(true);
    expect(refused.wait).toBeGreaterThan(0);
    expect(refused.wait).toBeLessThanOrEqual(5_000);
    // The same window as the limiter's own.
    expect(await limiter.acquire("closed", request("closed", 2, "d").limits)).toBeGreaterThan(0);
    // Without a limit, the breaker alone.
    expect(await gate.admit({ key, settings }, null)).toEqual({
      breaker: { allowed: true, probe: false, clean: true },
      wait: 0,
    });
  });

  it("takes nothing from the limiter while the breaker is open, and one slot for the probe", async () => {
    const key = "anthropic/gate-open";
    await breakers.failure(key, "HTTP 500", settings);
    for (const id of ["a", "b", "c"]) {
      const { breaker, wait } = await gate.admit({ key, settings }, request("open", 2, id));
      expect(breaker).toMatchObject({ allowed: false, lastError: "HTTP 500" });
      expect(wait).toBe(0);
    }
    await sleep(settings.cooldownMs + 50);
    // Of many at once, exactly one is the probe, and only the probe is counted by the limiter.
    const admissions = await Promise.all(
      Array.from({ length: 6 }, (_, index) => gate.admit({ key, settings }, request("open", 2, `p${index}`))),
    );
    expect(admissions.filter(({ breaker }) => breaker.allowed && breaker.probe)).toHaveLength(1);
    expect(admissions.filter(({ breaker }) => !breaker.allowed)).toHaveLength(5);
    expect(admissions.every(({ wait }) => wait === 0)).toBe(true);
    // The probe's success closes the breaker; one slot of two is left in the window.
    expect(await breakers.success(key)).toBe(true);
    expect(await gate.admit({ key, settings }, request("open", 2, "d"))).toEqual({
      breaker: { allowed: true, probe: false, clean: true },
      wait: 0,
    });
    expect((await gate.admit({ key, settings }, request("open", 2, "e"))).wait).toBeGreaterThan(0);
  });

  it("holds a call's tokens under a token limit, as the limiter does", async () => {
    const key = "gemini/gate-tokens";
    const limits = { tokens: { max: 1_000, windowMs: 5_000 } };
    const ask = (id: string, tokens: number) => ({ name: "tokens", limits, reservation: { id, tokens } });
    expect((await gate.admit({ key, settings }, ask("a", 600))).wait).toBe(0);
    expect((await gate.admit({ key, settings }, ask("b", 500))).wait).toBeGreaterThan(0);
    expect(await limiter.settle("tokens", "a", 300)).toBe(true);
    expect((await gate.admit({ key, settings }, ask("b", 500))).wait).toBe(0);
  });
});
