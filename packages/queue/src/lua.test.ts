import { randomUUID } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { createRedis } from "./connection.ts";
import { luaScript } from "./lua.ts";

const redis = createRedis(process.env.REDIS_URL ?? "redis://127.0.0.1:6379");
const prefix = `lua-test-${randomUUID()}`;
afterAll(async () => {
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
});

const INCREMENT = "return redis.call('INCRBY', KEYS[1], ARGV[1])";

describe("luaScript", () => {
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
