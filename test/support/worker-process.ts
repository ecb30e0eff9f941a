// Worker processes for tests: the real `apps/worker/src/main.ts`, as separate OS processes, pointed
// at a test stack's database, Redis prefix, workspace and simulator.
import { spawnWorkerProcess, type WorkerProcess } from "./cluster.ts";
import { queueEnv } from "./queues.ts";
import type { Stack } from "./stack.ts";

export type { WorkerProcess };

/** Starts `node apps/worker/src/main.ts ...args` for `stack`; extra env overrides (rate limits etc.). */
export function startWorkerProcess(
  stack: Stack,
  args: string[],
  env: Record<string, string> = {},
  name = `worker ${args.join(" ")}`,
): WorkerProcess {
  return spawnWorkerProcess(name, args, {
    PATH: process.env.PATH ?? "",
    HOME: process.env.HOME ?? "",
    ...stack.sim.env(),
    DATABASE_URL: stack.db.url,
    ...queueEnv(stack.queues),
    WORKSPACE_DIR: stack.workspaceDir,
    LOG_LEVEL: "info",
    ...env,
  });
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
