import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deleteKeysWithPrefix, redisUrl, uniquePrefix } from "../../../../test/support/redis.ts";
import { pauseQueueAtLeast } from "./queue-pause.ts";
import { bullmqLimiter, parseRateLimit, SlidingWindowLimiter } from "./rate-limit.ts";

describe("rate limit settings", () => {
  it.each([
    ["600", { max: 600, windowMs: 60_000 }],
    ["600/60s", { max: 600, windowMs: 60_000 }],
    ["10/5s", { max: 10, windowMs: 5_000 }],
    ["1000/1m", { max: 1000, windowMs: 60_000 }],
    ["50/500ms", { max: 50, windowMs: 500 }],
    [" 4 / 2s ", { max: 4, windowMs: 2_000 }],
  ])("parses %j", (text, limit) => {
    expect(parseRateLimit(text)).toEqual(limit);
  });

  it.each(["", "0", "-5", "ten", "10/", "10/5x", "1.5/1s"])("refuses %j", (text) => {
    expect(() => parseRateLimit(text)).toThrow(/expected <requests>\[\/<window>\]/);
  });

  it("names tokens in the error of a token limit", () => {
    expect(parseRateLimit("80000/60s", "tokens")).toEqual({ max: 80_000, windowMs: 60_000 });
    expect(() => parseRateLimit("80k", "tokens")).toThrow(/expected <tokens>\[\/<window>\] such as 80000/);
  });

  it("paces BullMQ's fixed-window limiter at the same rate, never in bursts of a full window", () => {
    expect(bullmqLimiter({ max: 600, windowMs: 60_000 })).toEqual({ max: 10, duration: 1_000 });
    expect(bullmqLimiter({ max: 4, windowMs: 2_000 })).toEqual({ max: 2, duration: 1_000 });
    expect(bullmqLimiter({ max: 5, windowMs: 60_000 })).toEqual({ max: 1, duration: 12_000 });
  });
});

describe("in Redis", () => {
  let redis: Redis;
  const prefix = uniquePrefix();
  beforeAll(() => {
    redis = new Redis(redisUrl(), { maxRetriesPerRequest: null });
  });
  afterAll(async () => {
    await deleteKeysWithPrefix(prefix);
    redis.disconnect();
  });

  it("admits at most max requests in any window, for every client of the same Redis", async () => {
    const other = new Redis(redisUrl());
    try {
      const a = new SlidingWindowLimiter(redis, prefix, { marginMs: 0 });
      const b = new SlidingWindowLimiter(other, prefix, { marginMs: 0 });
      const limit = { requests: { max: 3, windowMs: 1_000 } };
      const waits = [await a.acquire("p", limit), await b.acquire("p", limit), await a.acquire("p", limit)];
      expect(waits).toEqual([0, 0, 0]);
      const refused = await b.acquire("p", limit);
      expect(refused).toBeGreaterThan(0);
      expect(refused).toBeLessThanOrEqual(1_000);
      // Another name has its own window.
      expect(await a.acquire("q", limit)).toBe(0);
    } finally {
      other.disconnect();
    }
  });

  it("holds the tokens of the requests admitted in any window under the token limit, and settles them", async () => {
    const limiter = new SlidingWindowLimiter(redis, prefix, { marginMs: 0 });
    const limits = { tokens: { max: 1_000, windowMs: 1_000 } };
    expect(await limiter.acquire("t", limits, { id: "a", tokens: 600 })).toBe(0);
    // 600 + 500 > 1000: refused, and the wait is until "a" leaves the window.
    const wait = await limiter.acquire("t", limits, { id: "b", tokens: 500 });
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(1_000);
    // "a" used only 300 of its 600: settling frees the rest at once.
    expect(await limiter.settle("t", "a", 300)).toBe(true);
    expect(await limiter.acquire("t", limits, { id: "b", tokens: 500 })).toBe(0);
    expect(await limiter.acquire("t", limits, { id: "c", tokens: 300 })).toBeGreaterThan(0);
    // A request larger than the whole limit is capped at it: it waits for an empty window, then goes.
    const big = { id: "d", tokens: 50_000 };
    const bigWait = await limiter.acquire("t", limits, big);
    expect(bigWait).toBeGreaterThan(0);
    await new Promise((resolve) => setTimeout(resolve, bigWait + 10));
    expect(await limiter.acquire("t", limits, big)).toBe(0);
    expect(await limiter.acquire("t", limits, { id: "e", tokens: 1 })).toBeGreaterThan(0);
    // After the window, an old reservation cannot be settled into a window it left.
    await new Promise((resolve) => setTimeout(resolve, 1_050));
    expect(await limiter.settle("t", "d", 10)).toBe(false);
  });

  it("refuses in both limits or in neither: a request the token limit refuses takes no request slot", async () => {
    const limiter = new SlidingWindowLimiter(redis, prefix, { marginMs: 0 });
    const limits = { requests: { max: 2, windowMs: 2_000 }, tokens: { max: 100, windowMs: 2_000 } };
    expect(await limiter.acquire("both", limits, { id: "1", tokens: 90 })).toBe(0);
    expect(await limiter.acquire("both", limits, { id: "2", tokens: 90 })).toBeGreaterThan(0);
    expect(await limiter.acquire("both", limits, { id: "3", tokens: 10 })).toBe(0);
    // Two requests now: the request limit binds even for a request that needs no tokens.
    expect(await limiter.acquire("both", limits, { id: "4", tokens: 0 })).toBeGreaterThan(0);
  });

  it("pauses a queue for at least the requested time and never shortens a longer pause", async () => {
    const queue = new Queue("anthropic", { connection: redis, prefix });
    try {
      expect(await pauseQueueAtLeast(redis, queue, 5_000)).toBe(5_000);
      const remaining = await pauseQueueAtLeast(redis, queue, 1_000);
      expect(remaining).toBeGreaterThan(4_000);
      expect(await queue.getRateLimitTtl()).toBeGreaterThan(4_000);
      expect(await pauseQueueAtLeast(redis, queue, 9_000)).toBe(9_000);
      expect(await queue.getRateLimitTtl()).toBeGreaterThan(8_000);
    } finally {
      await queue.close();
    }
  });

  it("pauses a queue whose limiter key is only BullMQ's window counter, whatever its remaining time", async () => {
    const queue = new Queue("gemini", { connection: redis, prefix });
    try {
      // BullMQ's own limiter: 3 jobs started in a window with 900 ms left, below its max of 10.
      await redis.set(queue.keys.limiter as string, "3", "PX", 900);
      expect(await pauseQueueAtLeast(redis, queue, 500)).toBe(500);
      expect(await redis.get(queue.keys.limiter as string)).toBe(String(Number.MAX_SAFE_INTEGER));
      expect(await queue.getRateLimitTtl(10)).toBeGreaterThan(0);
    } finally {
      await queue.close();
    }
  });
});
