import { readFileSync } from "node:fs";
import { type LuaScript, luaScript, type RedisClient } from "@foundry/queue";
import type { BreakerAdmission, BreakerSettings, BreakerStore, BreakerTransition } from "@foundry/store";

const script = readFileSync(new URL("./breaker.lua", import.meta.url), "utf8");

/** The breaker's state in Redis (one hash per breaker; see breaker.lua), for clusters queued on Redis. */
export class RedisBreakerStore implements BreakerStore {
  readonly #breaker: LuaScript;
  readonly #prefix: string;

  /** `prefix`: the queues' prefix, so a Redis Cluster hash tag keeps the keys in one slot. */
  constructor(redis: RedisClient, prefix: string) {
    this.#breaker = luaScript(redis, "foundryBreaker", script, 1);
    this.#prefix = prefix;
  }

  #key(key: string): string {
    return `${this.#prefix}:breaker:${key}`;
  }

  async admit(key: string, settings: BreakerSettings): Promise<BreakerAdmission> {
    const reply = (await this.#breaker(this.#key(key), "admit", settings.cooldownMs)) as
      | [1, 0 | 1, 0 | 1]
      | [0, string, string, string];
    if (reply[0] === 1) return { allowed: true, probe: reply[1] === 1, clean: reply[2] === 1 };
    return {
      allowed: false,
      openedAt: new Date(Number(reply[1])),
      retryAt: new Date(Number(reply[2])),
      lastError: reply[3] || null,
    };
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
