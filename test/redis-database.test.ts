import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { checkRedisDatabase, RedisDatabaseError } from "@foundry/queue";
import { describe, expect, it } from "vitest";
import { noRedis, redisUrl } from "./support/redis.ts";
import { API_TOKEN } from "./support/stack.ts";

// ioredis answers a failed SELECT with an "error" event and goes on in database 0; the processes
// must stop at start instead of sharing database 0 with whatever else uses it.
const withDatabase = (db: string) => {
  const url = new URL(redisUrl());
  url.pathname = `/${db}`;
  return url.toString();
};

describe.skipIf(noRedis("the Redis database checks"))("the Redis database a REDIS_URL names", () => {
  it("accepts a database the server has, and needs no connection for database 0", async () => {
    expect(await checkRedisDatabase(withDatabase("1"))).toEqual({ checked: true, db: 1 });
    expect(await checkRedisDatabase(redisUrl())).toEqual({ checked: true, db: 0 });
    // Port 1: nothing listens there, and database 0 needs no check.
    expect(await checkRedisDatabase("redis://127.0.0.1:1/0")).toEqual({ checked: true, db: 0 });
  });

  it("refuses a database the server does not have, saying which and how many it has", async () => {
    const check = checkRedisDatabase(withDatabase("99"));
    await expect(check).rejects.toBeInstanceOf(RedisDatabaseError);
    await expect(check).rejects.toThrow(
      /^the Redis server at 127\.0\.0\.1:\d+ has no database 99 \(ERR DB index is out of range\); it has \d+ \(0–\d+\)/,
    );
    await expect(checkRedisDatabase(`${redisUrl()}?db=99`)).rejects.toThrow(/has no database 99/);
    await expect(checkRedisDatabase(withDatabase("abc"))).rejects.toThrow(/^"abc" is not a database index/);
  });

  it("says it could not check when Redis is not reachable (the processes wait for Redis)", async () => {
    const result = await checkRedisDatabase("redis://127.0.0.1:1/3", { timeoutMs: 1_000 });
    expect(result).toMatchObject({ checked: false, db: 3 });
  });

  const start = (app: "api" | "worker") =>
    spawnSync(process.execPath, [fileURLToPath(new URL(`../apps/${app}/src/main.ts`, import.meta.url))], {
      env: {
        PATH: process.env.PATH ?? "",
        DATABASE_URL: "postgresql://127.0.0.1:1/never-reached",
        REDIS_URL: withDatabase("99"),
        API_TOKEN,
      },
      encoding: "utf8",
      timeout: 20_000,
    });

  it.each(["api", "worker"] as const)("stops the %s at start with a message naming REDIS_URL", (app) => {
    const result = start(app);
    expect(result.status, result.stderr).toBe(1);
    expect(result.stderr).toMatch(
      new RegExp(`^${app}: REDIS_URL: the Redis server at 127\\.0\\.0\\.1:\\d+ has no database 99 `, "m"),
    );
  });
});
