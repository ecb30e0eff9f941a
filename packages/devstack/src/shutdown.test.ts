import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { findRedisServer } from "./find-redis-server.ts";
import { isAlive, waitForExit } from "./process-info.ts";
import { exitOf, type HeldServer, holdServer, makeTempRoot } from "./test-support/processes.ts";

// Each case runs a separate Node process that starts a private Redis (the fastest server to start) and
// installs the shutdown handlers, then checks how that process ended and that its server went with it.
describe.skipIf(findRedisServer() === null)("installShutdownHandlers", () => {
  let root: string;
  let held: HeldServer | undefined;

  beforeAll(() => {
    root = makeTempRoot("devstack-shutdown-");
  });

  afterEach(async () => {
    held?.child.kill("SIGKILL");
    if (held) await waitForExit(held.pid, 15_000);
    held = undefined;
  });

  afterAll(() => {
    rmSync(root, { recursive: true, force: true });
  });

  // A pidfile left behind would mean Redis did not shut down cleanly (it removes it on a clean exit).
  const expectCleanStop = async (dataDir: string, pid: number) => {
    expect(isAlive(pid)).toBe(false);
    expect(existsSync(join(dataDir, "redis.pid"))).toBe(false);
  };

  it.each([
    ["SIGTERM", 143],
    ["SIGINT", 130],
  ] as const)("stops the server on %s and exits with %i", async (signal, code) => {
    const dataDir = join(root, signal);
    held = await holdServer("redis", dataDir, "handlers");
    held.child.kill(signal);
    expect(await exitOf(held.child)).toBe(code);
    await expectCleanStop(dataDir, held.pid);
  });

  it("stops the server after an uncaught exception and exits with 1", async () => {
    const dataDir = join(root, "crash");
    held = await holdServer("redis", dataDir, "crash");
    expect(await exitOf(held.child)).toBe(1);
    await expectCleanStop(dataDir, held.pid);
  });

  it("stops the server when the event loop runs empty, keeping process.exitCode", async () => {
    const dataDir = join(root, "drain");
    held = await holdServer("redis", dataDir, "drain");
    expect(await exitOf(held.child)).toBe(3);
    await expectCleanStop(dataDir, held.pid);
  });

  it("without handlers, the lifeline still stops the server when the process exits", async () => {
    const dataDir = join(root, "exit");
    held = await holdServer("redis", dataDir, "exit");
    expect(await exitOf(held.child)).toBe(0);
    expect(await waitForExit(held.pid, 15_000)).toBe(true);
    await expectCleanStop(dataDir, held.pid);
  });
});
