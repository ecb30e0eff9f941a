import { type LuaScript, luaScript, type RedisClient } from "@foundry/queue";
import {
  type BreakerSettings,
  type CallGate,
  type GateAdmission,
  type LimitRequest,
  WINDOW_MARGIN_MS,
} from "@foundry/store";
import {
  admissionOfReply,
  BREAKER_LUA,
  type BreakerAdmitReply,
  breakerRedisKey,
  RedisBreakerStore,
} from "../breaker/redis-breaker.ts";
import { SLIDING_WINDOW_LUA, slidingWindowKeysAndArgs } from "./rate-limit.ts";

/**
 * breaker.lua and sliding-window.lua as two functions of one script: the breaker's `admit`, then,
 * only when it lets the call go, the limiter's admission. Each script's KEYS and ARGV are its
 * function's parameters, so both run exactly as they do on their own.
 *
 *   KEYS[1]     the breaker's hash; KEYS[2..4] the limiter's keys (sliding-window.lua's KEYS[1..3])
 *   ARGV[1]     the breaker's cool-down in ms; ARGV[2..7] sliding-window.lua's ARGV[1..6]
 * Returns {breaker.lua's admit reply, the limiter's wait (0 when not asked)}.
 */
const GATE_LUA = `local function breaker(KEYS, ARGV)
${BREAKER_LUA}
end
local function limiter(KEYS, ARGV)
${SLIDING_WINDOW_LUA}
end
local admission = breaker({KEYS[1]}, {'admit', ARGV[1]})
if admission[1] ~= 1 then return {admission, 0} end
return {admission, limiter({KEYS[2], KEYS[3], KEYS[4]}, {ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7]})}
`;

/**
 * A call's breaker admission and limiter acquisition in one Redis script (RedisBreakerStore's and
 * SlidingWindowLimiter's keys, under the queues' prefix); a call without limits asks its breaker alone.
 */
export class RedisCallGate implements CallGate {
  readonly #gate: LuaScript;
  readonly #breakers: RedisBreakerStore;
  readonly #prefix: string;
  readonly #marginMs: number;

  constructor(redis: RedisClient, prefix: string, options: { marginMs?: number } = {}) {
    this.#gate = luaScript(redis, "foundryCallGate", GATE_LUA, 4);
    this.#breakers = new RedisBreakerStore(redis, prefix);
    this.#prefix = prefix;
    this.#marginMs = options.marginMs ?? WINDOW_MARGIN_MS;
  }

  async admit(
    breaker: { key: string; settings: BreakerSettings },
    limit: LimitRequest | null,
  ): Promise<GateAdmission> {
    const window =
      limit &&
      slidingWindowKeysAndArgs(this.#prefix, this.#marginMs, limit.name, limit.limits, limit.reservation);
    if (!window) return { breaker: await this.#breakers.admit(breaker.key, breaker.settings), wait: 0 };
    const [reply, wait] = (await this.#gate(
      breakerRedisKey(this.#prefix, breaker.key),
      ...window.keys,
      breaker.settings.cooldownMs,
      ...window.args,
    )) as [BreakerAdmitReply, number];
    return { breaker: admissionOfReply(reply), wait: Number(wait) };
  }
}
