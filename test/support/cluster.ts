// Pieces of a real Foundry cluster shared by the tests and the benchmarks: worker processes, waiting
// for them to connect, and removing a BullMQ prefix from Redis. Nothing here imports vitest, so
// `bench/` can use it too.
import { type ChildProcess, spawn } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import type { QueueName, QueueSet } from "@foundry/queue";
import { WORKER_ENV, WORKER_NODE_FLAGS } from "@foundry/worker/node-flags";
import type { Redis } from "ioredis";

const WORKER_MAIN = fileURLToPath(new URL("../../apps/worker/src/main.ts", import.meta.url));

/**
 * Node's cache of compiled, type-stripped modules (the directory `enableCompileCache()` uses by
 * default, as the CLI's bin.js does): a worker process started with it warm loads no TypeScript
 * stripper. Importing the worker then takes 110–113 MB of RSS instead of 136–138 MB; after 100
 * sessions the difference is lost in V8's heap sizing. The Dockerfile sets it for every process.
 */
export const COMPILE_CACHE_ENV: Readonly<Record<string, string>> = {
  NODE_COMPILE_CACHE: join(tmpdir(), "node-compile-cache"),
};

export interface WorkerProcess {
  /** For messages, e.g. `anthropic-2`. */
  name: string;
  child: ChildProcess;
  pid: number;
  /** Everything the process wrote (JSON log lines). */
  output(): string;
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>;
  /** SIGTERM (the worker drains, bounded), then SIGKILL if it still runs after `graceMs`. */
  stop(graceMs?: number): Promise<number | null>;
}

/**
 * `node <WORKER_NODE_FLAGS> apps/worker/src/main.ts ...args` with `env` (over `WORKER_ENV` and
 * `COMPILE_CACHE_ENV`), and an IPC channel so that it shuts itself down when this process dies,
 * even by SIGKILL (@foundry/runtime's onShutdown).
 */
export function spawnWorkerProcess(name: string, args: string[], env: Record<string, string>): WorkerProcess {
  const child = spawn(process.execPath, [...WORKER_NODE_FLAGS, WORKER_MAIN, ...args], {
    env: { ...COMPILE_CACHE_ENV, ...WORKER_ENV, ...env },
    stdio: ["ignore", "pipe", "pipe", "ipc"],
  });
  let output = "";
  const keep = (chunk: Buffer) => {
    output += chunk.toString("utf8");
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const running = () => child.exitCode === null && child.signalCode === null;
  return {
    name,
    child,
    pid: child.pid as number,
    output: () => output,
    exited,
    async stop(graceMs = 10_000) {
      if (running()) {
        child.kill("SIGTERM");
        const done = await Promise.race([exited.then(() => true), sleep(graceMs, false, { ref: false })]);
        if (!done && running()) child.kill("SIGKILL");
      }
      return exited;
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

/** Deletes every key that starts with `prefix` (SCAN + UNLINK, never KEYS) and returns how many. */
export async function deleteKeysWithPrefix(redis: Redis, prefix: string): Promise<number> {
  if (!prefix) throw new Error("deleteKeysWithPrefix needs a non-empty prefix: it would empty the server");
  const pattern = `${prefix.replace(/[*?[\]\\]/g, "\\$&")}*`;
  let deleted = 0;
  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", pattern, "COUNT", 1000);
    cursor = next;
    if (keys.length > 0) deleted += await redis.unlink(...keys);
  } while (cursor !== "0");
  return deleted;
}
