// A scratch database for benchmarks (worker processes and prefix cleanup are shared with the tests:
// test/support/cluster.ts). Everything here is real: Postgres, Redis, OS processes.
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createApp } from "@foundry/api";
import { createPrisma, ensureDatabase, migrate, type PrismaClient } from "@foundry/db";
import {
  createRedis,
  openQueueConnection,
  type QueueBackend,
  type QueueBackendKind,
  QueueSet,
} from "@foundry/queue";
import type { Simulator } from "@foundry/simulator";
import { WorkflowCatalog } from "@foundry/workflow";
import { Client, escapeIdentifier } from "pg";
import {
  deleteKeysWithPrefix,
  spawnWorkerProcess,
  type WorkerProcess,
  waitForWorkers,
} from "../test/support/cluster.ts";

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

// Cleanup steps, run last-in first-out on success, failure or Ctrl-C.
const cleanups: Array<() => Promise<unknown>> = [];

/** Runs every registered cleanup step, newest first; a failing step is reported, not fatal. */
export async function cleanUp(): Promise<void> {
  while (cleanups.length > 0) {
    const step = cleanups.pop() as () => Promise<unknown>;
    await step().catch((error: unknown) => console.error(`bench: cleanup: ${String(error)}`));
  }
}

/** Registers `step` and returns a function that runs it now (once) instead of at the end. */
export function defer(step: () => Promise<unknown>): () => Promise<void> {
  cleanups.push(step);
  return async () => {
    const index = cleanups.lastIndexOf(step);
    if (index >= 0) {
      cleanups.splice(index, 1);
      await step();
    }
  };
}

/** The real API in this process (no HTTP server): sessions are submitted as a client would. */
async function benchApi(options: {
  db: PrismaClient;
  queues: QueueSet;
  workflowsDir: string;
  workspaceDir: string;
}): Promise<{ submit(request: string): Promise<string> }> {
  const apiToken = randomBytes(24).toString("base64url");
  const app = createApp({
    db: options.db,
    queues: options.queues,
    workflows: await WorkflowCatalog.load(options.workflowsDir),
    apiToken,
    canPublish: false,
    workspaceDir: options.workspaceDir,
    maxBodyBytes: 1024 * 1024,
    logError: (error) => console.error(error),
    board: false,
  });
  return {
    async submit(request) {
      const response = await app.request("/api/sessions", {
        method: "POST",
        headers: { authorization: `Bearer ${apiToken}`, "content-type": "application/json" },
        body: JSON.stringify({ request }),
      });
      if (response.status !== 202) throw new Error(`submit: ${response.status} ${await response.text()}`);
      return ((await response.json()) as { id: string }).id;
    },
  };
}

export interface BenchCluster {
  db: PrismaClient;
  queues: QueueSet;
  submit(request: string): Promise<string>;
  /** The worker processes, the orchestrator first (e.g. to read their memory or match profiles). */
  workers: readonly WorkerProcess[];
  /** Stops the processes and removes the database, the queues' keys and the workspace. */
  stop(): Promise<void>;
}

/** How the provider queues are spread over worker processes (see startBenchCluster). */
export const BENCH_LAYOUTS = ["shared", "per-provider"] as const;
export type BenchLayout = (typeof BENCH_LAYOUTS)[number];

/**
 * A scratch database and BullMQ prefix, one orchestrator process and `replicas` processes consuming
 * the three provider queues at `concurrency` each (their environment: the simulator's, `env` on
 * top), and the API in this process for submissions. With `layout: "per-provider"`, each replica is
 * three processes, one per provider queue, as docker-compose.yml runs them.
 */
export async function startBenchCluster(options: {
  databaseUrl: string;
  redisUrl: string;
  /** Where the queues run: Redis at `redisUrl` under a fresh prefix, or PostgreSQL in the scratch database. @default "redis" */
  queueBackend?: QueueBackendKind;
  sim: Simulator;
  replicas: number;
  concurrency: number;
  workflowsDir: string;
  env: Record<string, string>;
  /** `shared`: a replica serves the three provider queues; `per-provider`: one process per queue. @default "shared" */
  layout?: BenchLayout;
}): Promise<BenchCluster> {
  const database = await createScratchDatabase(options.databaseUrl);
  const dropDatabase = defer(() => database.drop());
  const prefix = `bench-${randomUUID()}`;
  const backend: QueueBackend =
    options.queueBackend === "postgres"
      ? { kind: "postgres", url: database.url }
      : { kind: "redis", url: options.redisUrl, prefix, cluster: false };
  const queues = new QueueSet(await openQueueConnection(backend, { role: "worker" }));
  const closeQueues = defer(async () => {
    await queues.close();
    if (backend.kind === "redis") {
      const redis = createRedis(backend.url);
      await deleteKeysWithPrefix(redis, prefix);
      redis.disconnect();
    }
  });
  const workspaceDir = await mkdtemp(join(tmpdir(), "foundry-bench-ws-"));
  const removeWorkspace = defer(() => rm(workspaceDir, { recursive: true, force: true }));
  const db = createPrisma(database.url, { max: 4 });
  const disconnect = defer(() => db.$disconnect());

  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "",
    HOME: process.env.HOME ?? "",
    ...options.sim.env(),
    DATABASE_URL: database.url,
    ...(backend.kind === "redis"
      ? { QUEUE_BACKEND: "redis", REDIS_URL: backend.url, QUEUE_PREFIX: prefix }
      : { QUEUE_BACKEND: "postgres" }),
    WORKSPACE_DIR: workspaceDir,
    LOG_LEVEL: "warn",
    SHUTDOWN_TIMEOUT_MS: "5000",
    ...options.env,
  };
  const processes: WorkerProcess[] = [spawnWorkerProcess("orchestrator", ["--queues", "orchestrator"], env)];
  const concurrency = ["--concurrency", String(options.concurrency)];
  for (let index = 1; index <= options.replicas; index++) {
    if (options.layout === "per-provider") {
      for (const provider of ["openai", "anthropic", "gemini"]) {
        processes.push(
          spawnWorkerProcess(`${provider}-${index}`, ["--queues", provider, ...concurrency], env),
        );
      }
    } else {
      const args = ["--queues", "openai,anthropic,gemini", ...concurrency];
      processes.push(spawnWorkerProcess(`providers-${index}`, args, env));
    }
  }
  const stopProcesses = defer(() => Promise.all(processes.map((worker) => worker.stop())));
  const { replicas } = options;
  await waitForWorkers(queues, processes, {
    orchestrator: 1,
    openai: replicas,
    anthropic: replicas,
    gemini: replicas,
  });
  const api = await benchApi({ db, queues, workflowsDir: options.workflowsDir, workspaceDir });
  return {
    db,
    queues,
    submit: api.submit,
    workers: processes,
    async stop() {
      await stopProcesses();
      await disconnect();
      await removeWorkspace();
      await closeQueues();
      await dropDatabase();
    },
  };
}
