// One scenario's Foundry: its own database and BullMQ prefix on the shared services, the API process
// and three worker processes (all queues), configured only through the environment variables a user
// sets (README "Configuration").
import { randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { freePort } from "@foundry/devstack";
import { QUEUE_NAMES } from "@foundry/queue";
import type { QueueTarget } from "./backends.ts";
import {
  type Kill,
  type SupervisedProcess,
  superviseApi,
  superviseWorker,
  type UnexpectedExit,
} from "./processes.ts";
import type { Services } from "./services.ts";

export const WORKER_COUNT = 3;
const READY_TIMEOUT_MS = 60_000;

export interface Cluster {
  readonly apiUrl: string;
  readonly apiToken: string;
  readonly databaseName: string;
  readonly databaseUrl: string;
  readonly prefix: string;
  readonly api: SupervisedProcess;
  readonly workers: readonly SupervisedProcess[];
  /** Every kill -9 the scenario made, in order. */
  readonly kills: Kill[];
  /** Exits the suite did not cause (crashes, exits on errors), in order. */
  readonly unexpectedExits: UnexpectedExit[];
  /** kill -9 of one worker chosen with `random`; restarted after `restartAfterMs`. */
  killRandomWorker(random: () => number, restartAfterMs?: number): Kill | null;
  /** kill -9 of the API; restarted after `restartAfterMs` on the same port. */
  killApi(restartAfterMs?: number): Kill | null;
  /** Waits until the API answers /readyz with 200 (after a restart, say). */
  waitForApi(timeoutMs?: number): Promise<void>;
  /** Stops the API and the workers (SIGTERM, bounded drain). */
  stopProcesses(): Promise<void>;
  /** Removes the prefix's keys and drops the database (unless `keep`). */
  dispose(keep: boolean): Promise<void>;
}

/**
 * Starts the scenario's processes and resolves once the API is ready and every worker consumes every
 * queue. `env` is added to (and overrides) the standard environment, e.g. CALL_TIMEOUT_MS.
 */
export async function startCluster(options: {
  services: Services;
  scenario: string;
  logDir: string;
  env: Record<string, string>;
  say: (line: string) => void;
}): Promise<Cluster> {
  const { services, logDir, say } = options;
  mkdirSync(logDir, { recursive: true });
  const databaseName = await services.postgres.createDatabase(options.scenario);
  const databaseUrl = services.postgres.urlFor(databaseName);
  const prefix = `chaos-${options.scenario}-${randomBytes(3).toString("hex")}`;
  const port = await freePort();
  const apiToken = randomBytes(24).toString("base64url");
  const sim = services.sim.env();
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    ...(process.env.HOME && { HOME: process.env.HOME }),
    DATABASE_URL: databaseUrl,
    ...services.backend.env(),
    QUEUE_PREFIX: prefix,
    API_TOKEN: apiToken,
    HOST: "127.0.0.1",
    PORT: String(port),
    LOG_LEVEL: "info",
    WORKFLOWS_DIR: services.workflowsDir,
    WORKSPACE_DIR: join(logDir, "workspaces"),
    ...pick(sim, ["OPENAI_BASE_URL", "OPENAI_API_KEY", "ANTHROPIC_BASE_URL", "ANTHROPIC_API_KEY"]),
    ...pick(sim, ["GEMINI_BASE_URL", "GEMINI_API_KEY"]),
    // Limits that never bind: what is tested is the providers' 429s, not our own pacing.
    OPENAI_RATE_LIMIT: "6000/60s",
    ANTHROPIC_RATE_LIMIT: "6000/60s",
    GEMINI_RATE_LIMIT: "6000/60s",
    // A hung provider request ends well within a scenario; simulated calls take at most 0.8 s.
    CALL_TIMEOUT_MS: "10000",
    SHUTDOWN_TIMEOUT_MS: "3000",
    // Node's own cache of compiled modules: four processes start per scenario, on a shared machine.
    NODE_COMPILE_CACHE: join(services.dataDir, "..", "compile-cache"),
    ...options.env,
  };

  const unexpectedExits: UnexpectedExit[] = [];
  const kills: Kill[] = [];
  const events = {
    onUnexpectedExit(exit: UnexpectedExit) {
      unexpectedExits.push(exit);
      say(`${exit.name} (pid ${exit.pid}) exited unexpectedly (${exit.how}); restarting it`);
    },
  };
  const api = superviseApi(env, logDir, events);
  const workers = Array.from({ length: WORKER_COUNT }, (_, index) =>
    superviseWorker(`worker-${index + 1}`, env, logDir, events),
  );
  const apiUrl = `http://127.0.0.1:${port}`;
  const all = [api, ...workers];

  const waitForApi = async (timeoutMs = READY_TIMEOUT_MS) => {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const ok = await fetch(`${apiUrl}/readyz`, { signal: AbortSignal.timeout(2_000) }).then(
        (response) => response.ok,
        () => false,
      );
      if (ok) return;
      await sleep(100);
    }
    throw new Error(`the API was not ready after ${timeoutMs} ms (log: ${join(logDir, "api.log")})`);
  };

  const cluster: Cluster = {
    apiUrl,
    apiToken,
    databaseName,
    databaseUrl,
    prefix,
    api,
    workers,
    kills,
    unexpectedExits,
    killRandomWorker(random, restartAfterMs) {
      const running = workers.filter((worker) => worker.isRunning());
      const victim = running[Math.floor(random() * running.length)];
      const kill = victim?.kill9(restartAfterMs) ?? null;
      if (kill) kills.push(kill);
      return kill;
    },
    killApi(restartAfterMs) {
      const kill = api.kill9(restartAfterMs);
      if (kill) kills.push(kill);
      return kill;
    },
    waitForApi,
    async stopProcesses() {
      await Promise.all(all.map((process) => process.stop(8_000)));
    },
    async dispose(keep) {
      await services.backend.forget({ prefix, databaseUrl });
      if (!keep) await services.postgres.dropDatabase(databaseName).catch(() => {});
    },
  };

  try {
    await waitForApi();
    await waitForAllWorkers(services, { prefix, databaseUrl }, unexpectedExits);
  } catch (error) {
    await cluster.stopProcesses();
    await cluster.dispose(false);
    throw error;
  }
  return cluster;
}

/** Until every queue has WORKER_COUNT consumers; fails at once when a process exited meanwhile. */
async function waitForAllWorkers(
  services: Services,
  target: QueueTarget,
  exits: UnexpectedExit[],
): Promise<void> {
  const { queues, close } = await services.backend.openQueues(target);
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let counts: number[] = [];
  try {
    while (Date.now() < deadline) {
      const exit = exits[0];
      if (exit) throw new Error(`${exit.name} exited while starting (${exit.how}):\n${exit.tail}`);
      counts = await Promise.all(QUEUE_NAMES.map((name) => queues.get(name).getWorkersCount()));
      if (counts.every((count) => count === WORKER_COUNT)) return;
      await sleep(200);
    }
  } finally {
    await close();
  }
  const found = QUEUE_NAMES.map((name, index) => `${name} ${counts[index] ?? 0}`).join(", ");
  throw new Error(`workers not ready after ${READY_TIMEOUT_MS} ms (consumers: ${found})`);
}

function pick(from: Record<string, string>, names: string[]): Record<string, string> {
  return Object.fromEntries(names.flatMap((name) => (from[name] === undefined ? [] : [[name, from[name]]])));
}
