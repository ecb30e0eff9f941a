import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import type { Redis } from "ioredis";

/** At most `max` requests in any `windowMs`. */
export interface RateLimit {
  max: number;
  windowMs: number;
}

const UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, min: 60_000, h: 3_600_000 };

/**
 * Parses `600` (per minute), `600/60s`, `10/5s`, `1000/1m`, `50/500ms`.
 * @throws Error naming the expected format
 */
export function parseRateLimit(text: string): RateLimit {
  const match = /^\s*(\d+)\s*(?:\/\s*(\d+)?\s*(ms|s|m|min|h)\s*)?$/.exec(text);
  const max = Number(match?.[1]);
  const windowMs = match?.[3] ? Number(match[2] ?? 1) * (UNITS[match[3]] as number) : 60_000;
  if (!match || !Number.isSafeInteger(max) || max < 1 || windowMs < 1) {
    throw new Error(`expected <requests>[/<window>] such as 600, 600/60s or 10/5s, got "${text}"`);
  }
  return { max, windowMs };
}

/**
 * BullMQ limiter options that pace job starts evenly at the same rate (its limiter is a fixed
 * window, so `max` per full window would allow bursts of twice the rate across a boundary). The
 * exact limit is enforced by `SlidingWindowLimiter`; this keeps jobs from spinning against it.
 */
export function bullmqLimiter(limit: RateLimit): { max: number; duration: number } {
  const slot = limit.windowMs / limit.max;
  const duration = Math.max(1_000, Math.ceil(slot));
  return { max: Math.max(1, Math.floor(duration / slot)), duration };
}

const script = readFileSync(new URL("./sliding-window.lua", import.meta.url), "utf8");

/**
 * A cluster-wide sliding-window limiter in Redis (see sliding-window.lua). `marginMs` widens the
 * window a little so that requests admitted at the edge of a window still arrive at the provider
 * outside it despite network jitter.
 */
export class SlidingWindowLimiter {
  readonly #redis: Redis;
  readonly #keyPrefix: string;
  readonly #marginMs: number;

  constructor(redis: Redis, keyPrefix: string, options: { marginMs?: number } = {}) {
    this.#redis = redis;
    this.#keyPrefix = keyPrefix;
    this.#marginMs = options.marginMs ?? 250;
  }

  /** Admits one request under `name` or returns the milliseconds to wait. */
  async acquire(name: string, limit: RateLimit): Promise<number> {
    const wait = await this.#redis.eval(
      script,
      1,
      `${this.#keyPrefix}:limit:${name}`,
      limit.max,
      limit.windowMs + this.#marginMs,
      randomUUID(),
    );
    return Number(wait);
  }
}
