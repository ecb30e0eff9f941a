import { chmodSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { delimiter, join, relative } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RedisNotFoundError } from "./errors.ts";
import { findRedisServer } from "./find-redis-server.ts";
import { startPrivateRedis } from "./private-redis.ts";
import { makeTempRoot } from "./test-support/processes.ts";

describe("findRedisServer", () => {
  let root: string;
  let empty: string;
  let withRedis: string;
  let notExecutable: string;

  beforeAll(() => {
    root = makeTempRoot("devstack-find-");
    empty = join(root, "empty");
    withRedis = join(root, "bin");
    notExecutable = join(root, "noexec");
    for (const dir of [empty, withRedis, notExecutable]) mkdirSync(dir);
    writeFileSync(join(withRedis, "redis-server"), "#!/bin/sh\n");
    chmodSync(join(withRedis, "redis-server"), 0o755);
    writeFileSync(join(notExecutable, "redis-server"), "#!/bin/sh\n");
    chmodSync(join(notExecutable, "redis-server"), 0o644);
    mkdirSync(join(empty, "redis-server"));
  });

  afterAll(() => {
    rmSync(root, { recursive: true, force: true });
  });

  it("returns null when neither PATH nor the fallback dirs have an executable redis-server", () => {
    expect(findRedisServer({ path: [empty, notExecutable].join(delimiter), fallbackDirs: [] })).toBeNull();
  });

  it("finds it on PATH, skipping directories and non-executable files", () => {
    const path = [empty, notExecutable, withRedis].join(delimiter);
    expect(findRedisServer({ path, fallbackDirs: [] })).toBe(join(withRedis, "redis-server"));
  });

  it("looks in the fallback dirs after PATH and answers an absolute path", () => {
    expect(findRedisServer({ path: empty, fallbackDirs: [withRedis] })).toBe(join(withRedis, "redis-server"));
    const relativeDir = relative(process.cwd(), withRedis);
    expect(findRedisServer({ path: relativeDir, fallbackDirs: [] })).toBe(join(withRedis, "redis-server"));
  });

  it("makes startPrivateRedis fail with instructions when there is none", async () => {
    const failure = startPrivateRedis({
      dataDir: join(root, "data"),
      search: { path: empty, fallbackDirs: [] },
    });
    await expect(failure).rejects.toBeInstanceOf(RedisNotFoundError);
    await expect(failure).rejects.toMatchObject({ code: "REDIS_NOT_FOUND", isRetryable: false });
    await expect(failure).rejects.toThrow(
      /apt-get install redis-server[\s\S]*dnf install redis[\s\S]*brew install redis[\s\S]*docker compose up -d redis[\s\S]*REDIS_URL/,
    );
  });
});
