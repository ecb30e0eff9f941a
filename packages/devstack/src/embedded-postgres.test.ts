import { spawn, spawnSync } from "node:child_process";
import { rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import pg from "pg";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startEmbeddedPostgres } from "./embedded-postgres.ts";
import { DataDirInUseError, ServerStartError } from "./errors.ts";
import { freePort } from "./free-port.ts";
import { isAlive, waitForExit } from "./process-info.ts";
import { exitOf, type HeldServer, holdServer, killLifeline, makeTempRoot } from "./test-support/processes.ts";

async function query(url: string, text: string): Promise<unknown[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text)).rows;
  } finally {
    await client.end();
  }
}

describe("startEmbeddedPostgres", () => {
  let root: string;
  let dataDir: string;
  const cleanups: Array<() => Promise<unknown> | undefined> = [];

  beforeAll(async () => {
    root = makeTempRoot("devstack-pg-");
    dataDir = join(root, "postgres");
    // Initialise once; every test then starts the same cluster warm.
    const db = await startEmbeddedPostgres({ dataDir, database: "app" });
    await query(db.url, "CREATE TABLE marker (value text); INSERT INTO marker VALUES ('kept')");
    await db.stop();
  });

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  afterAll(() => {
    rmSync(root, { recursive: true, force: true });
  });

  const startHere = async (options: { port?: number } = {}) => {
    const db = await startEmbeddedPostgres({ dataDir, database: "app", ...options });
    cleanups.push(() => db.stop());
    return db;
  };

  const hold = async (mode: string): Promise<HeldServer> => {
    const held = await holdServer("postgres", dataDir, mode);
    cleanups.push(async () => {
      held.child.kill("SIGKILL");
      await exitOf(held.child);
      if (!(await waitForExit(held.pid, 15_000))) process.kill(held.pid, "SIGKILL");
    });
    return held;
  };

  it("serves the database it created, with working credentials, and keeps data across restarts", async () => {
    const db = await startHere();
    expect(db.url).toMatch(new RegExp(`^postgresql://postgres:[^@]+@127\\.0\\.0\\.1:${db.port}/app$`));
    expect(db.embedded).toBe(true);
    expect(await query(db.url, "SELECT value FROM marker")).toEqual([{ value: "kept" }]);
    await query(db.url, "INSERT INTO marker VALUES ('second run')");
    await db.stop();
    expect(isAlive(db.pid)).toBe(false);
    await expect(query(db.url, "SELECT 1")).rejects.toThrow(/ECONNREFUSED/);

    const again = await startHere({ port: await freePort() });
    expect(await query(again.url, "SELECT value FROM marker ORDER BY value")).toEqual([
      { value: "kept" },
      { value: "second run" },
    ]);
  });

  it("rejects a wrong password", async () => {
    const db = await startHere();
    await expect(query(db.url.replace(/:[^:@]+@/, ":wrong@"), "SELECT 1")).rejects.toThrow(/password/);
  });

  it("stops the server when its owner is killed with SIGKILL", async () => {
    const held = await hold("hold");
    expect(await query(held.url, "SELECT count(*)::int AS n FROM marker")).toEqual([
      { n: expect.any(Number) },
    ]);
    held.child.kill("SIGKILL");
    await exitOf(held.child);
    expect(await waitForExit(held.pid, 15_000)).toBe(true);
    const db = await startHere();
    expect(await query(db.url, "SELECT value FROM marker WHERE value = 'kept'")).toHaveLength(1);
  });

  it("stops an orphaned server whose owner and lifeline were both killed", async () => {
    const held = await hold("hold");
    killLifeline(held.pid);
    held.child.kill("SIGKILL");
    await exitOf(held.child);
    await delay(500);
    // The server really outlived both: this is the case the next start has to clean up.
    expect(isAlive(held.pid)).toBe(true);

    const db = await startHere();
    expect(isAlive(held.pid)).toBe(false);
    expect(await query(db.url, "SELECT value FROM marker WHERE value = 'kept'")).toHaveLength(1);
  });

  it("refuses to take over a server whose owner is still alive", async () => {
    const held = await hold("hold");
    await expect(startEmbeddedPostgres({ dataDir })).rejects.toBeInstanceOf(DataDirInUseError);
    expect(await query(held.url, "SELECT 1 AS ok")).toEqual([{ ok: 1 }]);
  });

  it("starts despite a postmaster.pid whose pid now belongs to an unrelated process", async () => {
    const unrelated = spawn("sleep", ["30"], { stdio: "ignore" });
    cleanups.push(async () => {
      unrelated.kill("SIGKILL");
      await exitOf(unrelated);
    });
    writeFileSync(join(dataDir, "postmaster.pid"), `${unrelated.pid}\n${dataDir}\n`);
    const db = await startHere();
    expect(await query(db.url, "SELECT 1 AS ok")).toEqual([{ ok: 1 }]);
    expect(isAlive(unrelated.pid!)).toBe(true);
  });

  it("starts despite a postmaster.pid whose process is gone", async () => {
    const gone = spawnSync("true").pid;
    writeFileSync(join(dataDir, "postmaster.pid"), `${gone}\n${dataDir}\n`);
    const db = await startHere();
    expect(await query(db.url, "SELECT 1 AS ok")).toEqual([{ ok: 1 }]);
  });

  it("fails with the server's reason when the requested port is taken", async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    cleanups.push(() => new Promise((resolve) => blocker.close(resolve)));
    const port = (blocker.address() as { port: number }).port;
    const failure = startEmbeddedPostgres({ dataDir, port });
    await expect(failure).rejects.toBeInstanceOf(ServerStartError);
    await expect(failure).rejects.toThrow(/port \d+ is already in use[\s\S]*Address already in use/);
  });
});
