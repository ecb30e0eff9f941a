import { readFileSync } from "node:fs";
import { type LuaScript, luaScript, type RedisClient } from "@foundry/queue";
import type { BreakerAdmission, BreakerSettings, BreakerStore, BreakerTransition } from "@foundry/store";

/** breaker.lua: a breaker's operations on its hash (its contract is at its top). */
export const BREAKER_LUA = readFileSync(new URL("./breaker.lua", import.meta.url), "utf8");

/** The reply of breaker.lua's `admit`. */
export type BreakerAdmitReply = [1, 0 | 1, 0 | 1] | [0, string, string, string];

/** What the breaker answered, from breaker.lua's `admit` reply. */
export function admissionOfReply(reply: BreakerAdmitReply): BreakerAdmission {
  if (reply[0] === 1) return { allowed: true, probe: reply[1] === 1, clean: reply[2] === 1 };
  return {
    allowed: false,
    openedAt: new Date(Number(reply[1])),
    retryAt: new Date(Number(reply[2])),
    lastError: reply[3] || null,
  };
}

/** The Redis key of breaker `key` under the queues' prefix. */
export function breakerRedisKey(prefix: string, key: string): string {
  return `${prefix}:breaker:${key}`;
}

/** The breaker's state in Redis (one hash per breaker; see breaker.lua), for clusters queued on Redis. */
export class RedisBreakerStore implements BreakerStore {
  readonly #breaker: LuaScript;
  readonly #prefix: string;

  /** `prefix`: the queues' prefix, so a Redis Cluster hash tag keeps the keys in one slot. */
  constructor(redis: RedisClient, prefix: string) {
    this.#breaker = luaScript(redis, "foundryBreaker", BREAKER_LUA, 1);
    this.#prefix = prefix;
  }

  #key(key: string): string {
    return breakerRedisKey(this.#prefix, key);
  }

  async admit(key: string, settings: BreakerSettings): Promise<BreakerAdmission> {
    const reply = await this.#breaker(this.#key(key), "admit", settings.cooldownMs);
    return admissionOfReply(reply as BreakerAdmitReply);
  }

  async success(key: string): Promise<boolean> {
    return (await this.#breaker(this.#key(key), "success", 0)) === 1;
  }

  async failure(key: string, error: string, settings: BreakerSettings): Promise<BreakerTransition> {
    const [state, opened] = (await this.#breaker(
      this.#key(key),
      "failure",
      settings.cooldownMs,
      settings.failureThreshold,
      error.slice(0, 500),
    )) as [string, number];
    return { state: state as BreakerTransition["state"], opened: opened === 1 };
  }
}
