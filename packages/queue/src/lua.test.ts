import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deleteKeysWithPrefix, noRedis, redisUrl, uniquePrefix } from "../../../test/support/redis.ts";
import { createRedis } from "./connection.ts";
import { luaScript } from "./lua.ts";

const INCREMENT = "return redis.call('INCRBY', KEYS[1], ARGV[1])";

describe.skipIf(noRedis("luaScript"))("luaScript", () => {
  const prefix = uniquePrefix();
  let redis: Redis;
  beforeAll(() => {
    redis = createRedis(redisUrl());
  });
  afterAll(async () => {
    await deleteKeysWithPrefix(prefix, redis);
    redis.disconnect();
  });

  it("runs the script with its keys and arguments, by its hash once the server has it", async () => {
    const increment = luaScript(redis, "foundryTestIncrement", INCREMENT, 1);
    expect(await increment(`${prefix}:n`, 2)).toBe(2);
    expect(await increment(`${prefix}:n`, 3)).toBe(5);
    // Defining it again on the same client reuses the command.
    expect(await luaScript(redis, "foundryTestIncrement", INCREMENT, 1)(`${prefix}:n`, 1)).toBe(6);
  });

  it("sends the script again after the server forgot it", async () => {
    const increment = luaScript(redis, "foundryTestIncrement", INCREMENT, 1);
    await redis.script("FLUSH");
    expect(await increment(`${prefix}:m`, 4)).toBe(4);
  });
});
