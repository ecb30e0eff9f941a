import { createPrisma } from "@foundry/db";
import { PostgresSlidingWindowLimiter, type RateLimiter } from "@foundry/store";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase } from "../../../../test/support/db.ts";
import { deleteKeysWithPrefix, noRedis, redisUrl, uniquePrefix } from "../../../../test/support/redis.ts";
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

/** Two clients of one store, each making limiters (a second client shows the limit is the store's). */
interface Store {
  limiter(client: 0 | 1): RateLimiter;
  close(): Promise<void>;
}

const stores: Array<[string, () => Promise<Store>]> = [
  [
    "Redis",
    async () => {
      const prefix = uniquePrefix();
      const clients = [new Redis(redisUrl(), { maxRetriesPerRequest: null }), new Redis(redisUrl())];
      return {
        limiter: (client) => new SlidingWindowLimiter(clients[client] as Redis, prefix, { marginMs: 0 }),
        async close() {
          await deleteKeysWithPrefix(prefix);
          for (const client of clients) client.disconnect();
        },
      };
    },
  ],
  [
    "PostgreSQL",
    async () => {
      const db = await createTestDatabase();
      const other = createPrisma(db.url, { max: 2 });
      return {
        limiter: (client) =>
          new PostgresSlidingWindowLimiter(client === 0 ? db.prisma : other, { marginMs: 0 }),
        async close() {
          await other.$disconnect();
          await db.drop();
        },
      };
    },
  ],
];

describe.each(stores.filter(([name]) => name !== "Redis" || !noRedis("the Redis limiter")))(
  "in %s",
  (_, open) => {
    let store: Store;
    beforeAll(async () => {
      store = await open();
    });
    afterAll(() => store.close());

    it("admits at most max requests in any window, for every client of the same store", async () => {
      {
        const a = store.limiter(0);
        const b = store.limiter(1);
        const limit = { requests: { max: 3, windowMs: 1_000 } };
        const waits = [await a.acquire("p", limit), await b.acquire("p", limit), await a.acquire("p", limit)];
        expect(waits).toEqual([0, 0, 0]);
        const refused = await b.acquire("p", limit);
        expect(refused).toBeGreaterThan(0);
        expect(refused).toBeLessThanOrEqual(1_000);
        // Another name has its own window.
        expect(await a.acquire("q", limit)).toBe(0);
      }
    });

    it("holds the tokens of the requests admitted in any window under the token limit, and settles them", async () => {
      const limiter = store.limiter(0);
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
      const limiter = store.limiter(0);
      const limits = { requests: { max: 2, windowMs: 2_000 }, tokens: { max: 100, windowMs: 2_000 } };
      expect(await limiter.acquire("both", limits, { id: "1", tokens: 90 })).toBe(0);
      expect(await limiter.acquire("both", limits, { id: "2", tokens: 90 })).toBeGreaterThan(0);
      expect(await limiter.acquire("both", limits, { id: "3", tokens: 10 })).toBe(0);
      // Two requests now: the request limit binds even for a request that needs no tokens.
      expect(await limiter.acquire("both", limits, { id: "4", tokens: 0 })).toBeGreaterThan(0);
    });
  },
);
