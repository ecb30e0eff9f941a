import type { RedisClient } from "./connection.ts";

/** Runs a Lua script: `keys` first, then `args`, as the script's KEYS and ARGV. */
export type LuaScript = (...keysAndArgs: Array<string | number>) => Promise<unknown>;

/**
 * A Lua script on `redis` under `name`, run with EVALSHA (ioredis' `defineCommand`): the script's
 * text is sent again only when the server does not have it (after a restart or a SCRIPT FLUSH),
 * instead of with every call as EVAL does. Defined once per client and name.
 */
export function luaScript(redis: RedisClient, name: string, lua: string, numberOfKeys: number): LuaScript {
  const client = redis as unknown as Record<string, LuaScript | undefined>;
  if (typeof client[name] !== "function") redis.defineCommand(name, { lua, numberOfKeys });
  const command = client[name] as LuaScript;
  return (...keysAndArgs) => command.apply(redis, keysAndArgs);
}
