// Worker processes for tests: the real `apps/worker/src/main.ts`, as separate OS processes, pointed
// at a test stack's database, Redis prefix, workspace and simulator.
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { redisUrl } from "./redis.ts";
import type { Stack } from "./stack.ts";

const WORKER_MAIN = fileURLToPath(new URL("../../apps/worker/src/main.ts", import.meta.url));

export interface WorkerProcess {
  /** For messages, e.g. `anthropic-2`. */
  name: string;
  child: ChildProcess;
  pid: number;
  /** Everything the process wrote (JSON log lines). */
  output(): string;
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>;
  /** SIGTERM, then SIGKILL if it is still running after `graceMs`. */
  stop(graceMs?: number): Promise<number | null>;
}

/** Starts `node apps/worker/src/main.ts ...args` for `stack`; extra env overrides (rate limits etc.). */
export function startWorkerProcess(
  stack: Stack,
  args: string[],
  env: Record<string, string> = {},
  name = `worker ${args.join(" ")}`,
): WorkerProcess {
  const child = spawn(process.execPath, [WORKER_MAIN, ...args], {
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "",
      ...stack.sim.env(),
      DATABASE_URL: stack.db.url,
      REDIS_URL: redisUrl(),
      QUEUE_PREFIX: stack.prefix,
      WORKSPACE_DIR: stack.workspaceDir,
      LOG_LEVEL: "info",
      ...env,
    },
    // The IPC channel makes the worker stop itself if this test process dies.
    stdio: ["ignore", "pipe", "pipe", "ipc"],
  });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    output += chunk.toString("utf8");
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    output += chunk.toString("utf8");
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return {
    name,
    child,
    pid: child.pid as number,
    output: () => output,
    exited,
    async stop(graceMs = 15_000) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
        await exited;
        clearTimeout(timer);
      }
      return exited;
    },
  };
}

/** Resolves once the worker logged that it is consuming its queues. */
export async function waitUntilConsuming(worker: WorkerProcess, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!worker.output().includes("worker consuming")) {
    if (worker.child.exitCode !== null) throw new Error(`worker exited early:\n${worker.output()}`);
    if (Date.now() > deadline)
      throw new Error(`worker did not start within ${timeoutMs} ms:\n${worker.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
