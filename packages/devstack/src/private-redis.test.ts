import { spawn } from "node:child_process";
import { existsSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { DataDirInUseError } from "./errors.ts";
import { findRedisServer } from "./find-redis-server.ts";
import { startPrivateRedis } from "./private-redis.ts";
import { isAlive, waitForExit } from "./process-info.ts";
import { exitOf, type HeldServer, holdServer, killLifeline, makeTempRoot } from "./test-support/processes.ts";

async function withRedis<T>(url: string, use: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = new Redis(url, { maxRetriesPerRequest: 0, retryStrategy: () => null, lazyConnect: true });
  await redis.connect();
  try {
    return await use(redis);
  } finally {
    redis.disconnect();
  }
}

describe.skipIf(findRedisServer() === null)("startPrivateRedis", () => {
  let root: string;
  let dataDir: string;
  const cleanups: Array<() => Promise<unknown>> = [];

  beforeAll(() => {
    root = makeTempRoot("devstack-redis-");
    dataDir = join(root, "redis");
  });

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  afterAll(() => {
    rmSync(root, { recursive: true, force: true });
  });

  const startIn = async (dir: string) => {
    const redis = await startPrivateRedis({ dataDir: dir });
    cleanups.push(() => redis.stop());
    return redis;
  };

  const hold = async (mode: string): Promise<HeldServer> => {
    const held = await holdServer("redis", dataDir, mode);
    cleanups.push(async () => {
      held.child.kill("SIGKILL");
      await exitOf(held.child);
      if (!(await waitForExit(held.pid, 15_000))) process.kill(held.pid, "SIGKILL");
    });
    return held;
  };

  it("runs on 127.0.0.1 with AOF and noeviction, and keeps data across a restart", async () => {
    const redis = await startIn(dataDir);
    expect(redis.url).toBe(`redis://127.0.0.1:${redis.port}`);
    await withRedis(redis.url, async (client) => {
      expect(await client.config("GET", "appendonly")).toEqual(["appendonly", "yes"]);
      expect(await client.config("GET", "maxmemory-policy")).toEqual(["maxmemory-policy", "noeviction"]);
      expect(await client.config("GET", "bind")).toEqual(["bind", "127.0.0.1"]);
      expect(await client.config("GET", "dir")).toEqual(["dir", realpathSync(dataDir)]);
      await client.set("devstack:kept", "yes");
    });
    expect(readFileSync(join(dataDir, "redis.pid"), "utf8").trim()).toBe(String(redis.pid));
    await redis.stop();
    expect(isAlive(redis.pid)).toBe(false);
    expect(existsSync(join(dataDir, "redis.pid"))).toBe(false);

    const again = await startIn(dataDir);
    expect(await withRedis(again.url, (client) => client.get("devstack:kept"))).toBe("yes");
  });

  it("stops the server when its owner is killed with SIGKILL, and the data survives", async () => {
    const held = await hold("hold");
    await withRedis(held.url, (client) => client.set("devstack:sigkill", "survived"));
    held.child.kill("SIGKILL");
    await exitOf(held.child);
    expect(await waitForExit(held.pid, 15_000)).toBe(true);
    const redis = await startIn(dataDir);
    expect(await withRedis(redis.url, (client) => client.get("devstack:sigkill"))).toBe("survived");
  });

  it("stops an orphaned server whose owner and lifeline were both killed", async () => {
    const held = await hold("hold");
    await withRedis(held.url, (client) => client.set("devstack:orphan", "survived"));
    killLifeline(held.pid);
    held.child.kill("SIGKILL");
    await exitOf(held.child);
    await delay(500);
    expect(isAlive(held.pid)).toBe(true);

    const redis = await startIn(dataDir);
    expect(isAlive(held.pid)).toBe(false);
    expect(await withRedis(redis.url, (client) => client.get("devstack:orphan"))).toBe("survived");
  });

  it("refuses to take over a server whose owner is still alive", async () => {
    const held = await hold("hold");
    await expect(startPrivateRedis({ dataDir })).rejects.toBeInstanceOf(DataDirInUseError);
    expect(await withRedis(held.url, (client) => client.ping())).toBe("PONG");
  });

  it("replaces a stale pidfile whose pid belongs to an unrelated process, without touching it", async () => {
    const unrelated = spawn("sleep", ["30"], { stdio: "ignore" });
    cleanups.push(async () => {
      unrelated.kill("SIGKILL");
      await exitOf(unrelated);
    });
    writeFileSync(join(dataDir, "redis.pid"), `${unrelated.pid}\n`);
    const redis = await startIn(dataDir);
    expect(isAlive(unrelated.pid!)).toBe(true);
    expect(readFileSync(join(dataDir, "redis.pid"), "utf8").trim()).toBe(String(redis.pid));
  });

  it("leaves alone a redis-server that runs from another data dir", async () => {
    const other = await startIn(join(root, "other"));
    writeFileSync(join(dataDir, "redis.pid"), `${other.pid}\n`);
    const redis = await startIn(dataDir);
    expect(redis.pid).not.toBe(other.pid);
    expect(await withRedis(other.url, (client) => client.ping())).toBe("PONG");
  });
});
