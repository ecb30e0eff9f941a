// The pieces of a throw-away Foundry cluster for benchmarks: a scratch database, worker processes
// and the cleanup of a BullMQ prefix. Everything here is real: Postgres, Redis, OS processes.
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { ensureDatabase, migrate } from "@foundry/db";
import type { QueueName, QueueSet } from "@foundry/engine";
import type { Redis } from "ioredis";
import { Client, escapeIdentifier } from "pg";

const WORKER_MAIN = fileURLToPath(new URL("../apps/worker/src/main.ts", import.meta.url));

export interface ScratchDatabase {
  name: string;
  url: string;
  /** Drops it, closing any connection still open. */
  drop(): Promise<void>;
}

/** Creates and migrates `bench_<random>` on the server of `adminUrl` (a database with CREATEDB rights). */
export async function createScratchDatabase(adminUrl: string): Promise<ScratchDatabase> {
  const name = `bench_${randomBytes(6).toString("hex")}`;
  const url = withDatabase(adminUrl, name);
  const drop = async () => {
    const client = new Client({ connectionString: adminUrl });
    client.on("error", () => {});
    await client.connect();
    try {
      await client.query(`DROP DATABASE IF EXISTS ${escapeIdentifier(name)} WITH (FORCE)`);
    } finally {
      await client.end();
    }
  };
  await ensureDatabase(url);
  try {
    await migrate(url);
  } catch (error) {
    await drop();
    throw error;
  }
  return { name, url, drop };
}

function withDatabase(url: string, database: string): string {
  const next = new URL(url);
  next.pathname = `/${encodeURIComponent(database)}`;
  return next.toString();
}

/** Deletes every key under `prefix` (SCAN + UNLINK) and returns how many. */
export async function deleteKeysWithPrefix(redis: Redis, prefix: string): Promise<number> {
  if (!prefix) throw new Error("deleteKeysWithPrefix needs a non-empty prefix");
  const pattern = `${prefix.replace(/[*?[\]\\]/g, "\\$&")}:*`;
  let deleted = 0;
  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", pattern, "COUNT", 1000);
    cursor = next;
    if (keys.length > 0) deleted += await redis.unlink(...keys);
  } while (cursor !== "0");
  return deleted;
}

export interface WorkerProcess {
  name: string;
  child: ChildProcess;
  exited: Promise<string>;
  /** The last lines it wrote, for error messages. */
  output(): string;
  /** SIGTERM (the worker drains, bounded), then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * `node apps/worker/src/main.ts <args>` with an IPC channel, so that it shuts itself down when
 * this process dies, even by SIGKILL (@foundry/runtime's onShutdown).
 */
export function startWorkerProcess(name: string, args: string[], env: Record<string, string>): WorkerProcess {
  const child = spawn(process.execPath, [WORKER_MAIN, ...args], {
    env,
    stdio: ["ignore", "pipe", "pipe", "ipc"],
  });
  const lines: string[] = [];
  const keep = (chunk: Buffer) => {
    lines.push(...chunk.toString("utf8").trimEnd().split("\n"));
    lines.splice(0, Math.max(0, lines.length - 40));
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const exited = new Promise<string>((resolve) => {
    child.once("exit", (code, signal) => resolve(signal ?? `exit code ${code}`));
  });
  const running = () => child.exitCode === null && child.signalCode === null;
  return {
    name,
    child,
    exited,
    output: () => lines.join("\n"),
    async stop(graceMs = 10_000) {
      if (!running()) return;
      child.kill("SIGTERM");
      const done = await Promise.race([exited.then(() => true), sleep(graceMs, false, { ref: false })]);
      if (!done && running()) {
        child.kill("SIGKILL");
        await exited;
      }
    },
  };
}

/** Waits until each queue has `expected` connected workers; fails at once if a process exits. */
export async function waitForWorkers(
  queues: QueueSet,
  processes: readonly WorkerProcess[],
  expected: Partial<Record<QueueName, number>>,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let counts: Record<string, number> = {};
  while (Date.now() < deadline) {
    const dead = processes.find(
      (worker) => worker.child.exitCode !== null || worker.child.signalCode !== null,
    );
    if (dead) throw new Error(`worker ${dead.name} exited before it was ready:\n${dead.output()}`);
    const names = Object.keys(expected) as QueueName[];
    const found = await Promise.all(names.map((name) => queues.get(name).getWorkersCount()));
    counts = Object.fromEntries(names.map((name, index) => [name, found[index] as number]));
    if (names.every((name) => counts[name] === expected[name])) return;
    await sleep(100);
  }
  const output = processes.map((worker) => `--- ${worker.name}\n${worker.output()}`).join("\n");
  throw new Error(`workers not ready after ${timeoutMs} ms: ${JSON.stringify(counts)}\n${output}`);
}
