import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { type LuaScript, luaScript, type RedisClient } from "@foundry/queue";
import {
  type ProviderLimits,
  type RateLimit,
  type RateLimiter,
  type Reservation,
  WINDOW_MARGIN_MS,
} from "@foundry/store";

const UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, min: 60_000, h: 3_600_000 };

/**
 * Parses `600` (per minute), `600/60s`, `10/5s`, `1000/1m`, `50/500ms`; `unit` names what is counted
 * in the error (`tokens` for a TPM setting).
 * @throws Error naming the expected format
 */
export function parseRateLimit(text: string, unit: "requests" | "tokens" = "requests"): RateLimit {
  const match = /^\s*(\d+)\s*(?:\/\s*(\d+)?\s*(ms|s|m|min|h)\s*)?$/.exec(text);
  const max = Number(match?.[1]);
  const windowMs = match?.[3] ? Number(match[2] ?? 1) * (UNITS[match[3]] as number) : 60_000;
  if (!match || !Number.isSafeInteger(max) || max < 1 || windowMs < 1) {
    const examples = unit === "tokens" ? "80000, 80000/60s or 2000/5s" : "600, 600/60s or 10/5s";
    throw new Error(`expected <${unit}>[/<window>] such as ${examples}, got "${text}"`);
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

/** sliding-window.lua: one admission under both limits (its contract is at its top). */
export const SLIDING_WINDOW_LUA = readFileSync(new URL("./sliding-window.lua", import.meta.url), "utf8");
const settleScript = readFileSync(new URL("./settle-tokens.lua", import.meta.url), "utf8");

/**
 * sliding-window.lua's 3 keys and 6 arguments for an admission under `name`, or null when `limits`
 * has no limit (nothing to ask).
 */
export function slidingWindowKeysAndArgs(
  keyPrefix: string,
  marginMs: number,
  name: string,
  limits: ProviderLimits,
  reservation: Reservation,
): { keys: string[]; args: Array<string | number> } | null {
  const { requests, tokens } = limits;
  if (!requests && !tokens) return null;
  return {
    keys: [`${keyPrefix}:limit:${name}`, `${keyPrefix}:tpm:${name}`, `${keyPrefix}:tpm:${name}:held`],
    args: [
      requests?.max ?? 0,
      (requests?.windowMs ?? 0) + marginMs,
      tokens?.max ?? 0,
      (tokens?.windowMs ?? 0) + marginMs,
      reservation.id,
      Math.min(Math.max(0, Math.ceil(reservation.tokens)), tokens?.max ?? 0),
    ],
  };
}

/**
 * A cluster-wide sliding-window limiter in Redis for requests and tokens together (see
 * sliding-window.lua). `marginMs` widens the windows a little so that requests admitted at the edge
 * of a window still arrive at the provider outside it despite network jitter.
 */
export class SlidingWindowLimiter implements RateLimiter {
  readonly #admit: LuaScript;
  readonly #settle: LuaScript;
  readonly #keyPrefix: string;
  readonly #marginMs: number;

  constructor(redis: RedisClient, keyPrefix: string, options: { marginMs?: number } = {}) {
    this.#admit = luaScript(redis, "foundryAdmit", SLIDING_WINDOW_LUA, 3);
    this.#settle = luaScript(redis, "foundrySettleTokens", settleScript, 1);
    this.#keyPrefix = keyPrefix;
    this.#marginMs = options.marginMs ?? WINDOW_MARGIN_MS;
  }

  /**
   * Admits one request under `name` (recording it in both limits) or returns the milliseconds to
   * wait. A reservation larger than the token limit is capped at it: it then waits for an empty window.
   */
  async acquire(
    name: string,
    limits: ProviderLimits,
    reservation: Reservation = { id: randomUUID(), tokens: 0 },
  ): Promise<number> {
    const window = slidingWindowKeysAndArgs(this.#keyPrefix, this.#marginMs, name, limits, reservation);
    if (!window) return 0;
    const wait = await this.#admit(...window.keys, ...window.args);
    return Number(wait);
  }

  /**
   * Replaces a reservation with the tokens the provider reported using. Returns false when the
   * reservation had already left its window (nothing to correct).
   */
  async settle(name: string, id: string, tokensUsed: number): Promise<boolean> {
    const updated = await this.#settle(
      `${this.#keyPrefix}:tpm:${name}:held`,
      id,
      Math.max(0, Math.ceil(tokensUsed)),
    );
    return updated === 1;
  }
}
