// An in-process Foundry for tests: the real API app, real BullMQ workers (the worker app's
// createWorker, on the stack's database and queues), real Prisma on a fresh database, the real
// provider SDKs talking to the provider simulator over HTTP.
//
//   const stack = await startStack();
//   const id = await stack.submit("Build a todo list app");
//   const session = await stack.waitForSession(id);
//   await stack.close();
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { type AppDeps, createApp, type LoginRateLimit } from "@foundry/api";
import { createPrisma } from "@foundry/db";
import {
  DEFAULT_FILE_LIMITS,
  DEFAULT_PRICES,
  type EngineDeps,
  EventFeed,
  isTerminalSession,
  type Logger,
  type RateLimit,
  type SessionView,
  silentLogger,
  type WorkerPool,
  type WorkerPoolOptions,
} from "@foundry/engine";
import { PROVIDERS, type ProviderName } from "@foundry/llm";
import { providerSettingsFromEnv } from "@foundry/providers";
import { openQueueConnection, type QueueBackend, QueueSet } from "@foundry/queue";
import { type Simulator, type SimulatorOptions, startSimulator } from "@foundry/simulator";
import { createWorker } from "@foundry/worker";
import { WorkflowCatalog } from "@foundry/workflow";
import type { Hono } from "hono";
import { createTestDatabase, type TestDatabase } from "./db.ts";
import { closeTestQueues, openTestQueues } from "./queues.ts";
import { uniquePrefix } from "./redis.ts";

export const API_TOKEN = "test-token-0123456789abcdef";
export const WORKFLOWS_DIR = fileURLToPath(new URL("../../workflows", import.meta.url));

/**
 * The API alone over a database and queues the test opened (no workers): the repository's
 * workflows, `API_TOKEN`, no publishing; errors and warnings go where the test says (nowhere by default).
 */
export async function createTestApp(
  deps: Pick<AppDeps, "db" | "queues"> & Partial<Pick<AppDeps, "workspaceDir" | "logError" | "logWarning">>,
): Promise<Hono> {
  return createApp({
    workflows: await WorkflowCatalog.load(WORKFLOWS_DIR),
    apiToken: API_TOKEN,
    canPublish: false,
    workspaceDir: "/nonexistent",
    maxBodyBytes: 1024 * 1024,
    logError: () => {},
    logWarning: () => {},
    ...deps,
  });
}

export interface StackOptions {
  simulator?: SimulatorOptions;
  /**
   * The queues' store instead of the run's (e.g. a Redis Cluster a test started). The test owns it:
   * close() closes the connection but removes none of its keys.
   */
  queueBackend?: QueueBackend;
  /** Start no workers (a test runs its own). */
  workers?: boolean;
  limits?: Partial<Record<ProviderName, RateLimit>>;
  /** Tokens per window per provider (`<PROVIDER>_TPM`). */
  tokenLimits?: Partial<Record<ProviderName, RateLimit>>;
  /** Calls in flight per provider for the cluster (`<PROVIDER>_MAX_IN_FLIGHT`). */
  maxInFlight?: Partial<Record<ProviderName, number>>;
  github?: EngineDeps["github"];
  canPublish?: boolean;
  workflowsDir?: string;
  /** The workers' durability settings (short leases in tests). */
  durability?: EngineDeps["durability"];
  breaker?: EngineDeps["breaker"];
  /** Per provider request. @default 10000 */
  callTimeoutMs?: number;
  maxSpendPerHourUsd?: number;
  /** The reconciler's settings, or false for none. @default fast passes (500 ms) */
  reconciler?: WorkerPoolOptions["reconciler"];
  /** @default 200 */
  maxStartedAttempts?: number;
  /**
   * The workers reach PostgreSQL through this URL made from the test database's (e.g. through a TCP
   * proxy the test can cut); the API and the test keep the direct one.
   */
  workerDatabaseUrl?: (url: string) => string;
  /** Runs once the test database exists, before the workers start (e.g. to start a proxy to it). */
  beforeWorkers?: (databaseUrl: string) => Promise<void>;
  /** Sign-in attempts per client address. @default 1000 per hour: tests sign in often, all as "unknown" */
  loginRateLimit?: LoginRateLimit;
  /** Keep-alive comments on the API's event streams. @default the API's (15 s) */
  sseKeepAliveMs?: number;
  /** Where the workers and the API log. @default nothing (the API's errors to the console) */
  log?: Logger;
  /** @default API_TOKEN */
  apiToken?: string;
}

export interface Stack {
  app: Hono;
  db: TestDatabase;
  sim: Simulator;
  queues: QueueSet;
  prefix: string;
  workspaceDir: string;
  deps: EngineDeps;
  /** The API's live event feed (LISTENing on the test database). */
  events: EventFeed;
  pool: WorkerPool | null;
  /** Authenticated request against the app. */
  request(path: string, init?: RequestInit): Promise<Response>;
  /** POST /api/sessions; returns the id. */
  submit(request: string, extra?: Record<string, unknown>): Promise<string>;
  /** Polls GET /api/sessions/:id until the session ends. */
  waitForSession(id: string, timeoutMs?: number): Promise<SessionView>;
  close(): Promise<void>;
}

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const db = await createTestDatabase();
  const sim = await startSimulator(options.simulator);
  const queues = options.queueBackend
    ? new QueueSet(await openQueueConnection(options.queueBackend, { role: "worker" }))
    : await openTestQueues({ databaseUrl: db.url, prefix: uniquePrefix() });
  const prefix = queues.prefix;
  const workspaceDir = await mkdtemp(join(tmpdir(), "foundry-ws-"));
  const workflows = await WorkflowCatalog.load(options.workflowsDir ?? WORKFLOWS_DIR);
  await options.beforeWorkers?.(db.url);
  const workerDatabaseUrl = options.workerDatabaseUrl?.(db.url) ?? db.url;
  const workerDb = options.workerDatabaseUrl ? createPrisma(workerDatabaseUrl, { max: 10 }) : db.prisma;
  // With `workers: false` nothing consumes the queues, but tests still get the engine's deps.
  const worker = await createWorker(
    {
      databaseUrl: workerDatabaseUrl,
      queueBackend: queues.connection.backend,
      queues: options.workers === false ? [] : ["orchestrator", ...PROVIDERS],
      providers: providerSettingsFromEnv(sim.env()),
      log: options.log ?? silentLogger,
      engine: {
        workspaceDir,
        fileLimits: DEFAULT_FILE_LIMITS,
        prices: DEFAULT_PRICES,
        limits: options.limits ?? {},
        tokenLimits: options.tokenLimits,
        github: options.github ?? null,
        worker: { host: "test-host", pid: process.pid },
        callTimeoutMs: options.callTimeoutMs ?? 10_000,
        durability: options.durability,
        breaker: options.breaker,
        maxSpendPerHourUsd: options.maxSpendPerHourUsd,
      },
      pool: {
        reconciler: options.reconciler ?? { intervalMs: 500, graceMs: 2_000 },
        maxStartedAttempts: options.maxStartedAttempts,
        maxInFlight: options.maxInFlight,
      },
    },
    { db: workerDb, queues },
  );
  const { deps } = worker;
  const events = await EventFeed.listen(db.url, { db: db.prisma });
  const apiToken = options.apiToken ?? API_TOKEN;
  const log = options.log;
  const app = createApp({
    db: db.prisma,
    queues,
    workflows,
    events,
    apiToken,
    canPublish: options.canPublish ?? options.github != null,
    rateLimits: options.limits,
    workspaceDir,
    maxBodyBytes: 1024 * 1024,
    logError: log ? (error) => log.error({ err: error }, "unhandled error") : (error) => console.error(error),
    ...(log && {
      logWarning: (details: Record<string, unknown>, message: string) => log.warn(details, message),
      logRequest: (entry: object, message: string) => log.debug(entry, message),
    }),
    loginRateLimit: options.loginRateLimit ?? { max: 1000, windowSeconds: 3600 },
    sseKeepAliveMs: options.sseKeepAliveMs,
  });

  const request = (path: string, init: RequestInit = {}) =>
    Promise.resolve(
      app.request(path, {
        ...init,
        headers: {
          authorization: `Bearer ${apiToken}`,
          "content-type": "application/json",
          ...init.headers,
        },
      }),
    );

  return {
    app,
    db,
    sim,
    queues,
    prefix,
    workspaceDir,
    deps,
    events,
    pool: options.workers === false ? null : worker.pool,
    request,
    async submit(text, extra = {}) {
      const response = await request("/api/sessions", {
        method: "POST",
        body: JSON.stringify({ request: text, ...extra }),
      });
      if (response.status !== 202) throw new Error(`submit: ${response.status} ${await response.text()}`);
      return ((await response.json()) as { id: string }).id;
    },
    async waitForSession(id, timeoutMs = 45_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const response = await request(`/api/sessions/${id}`);
        const view = (await response.json()) as SessionView;
        if (isTerminalSession(view.status)) return view;
        if (Date.now() > deadline)
          throw new Error(`session ${id} still ${view.status} after ${timeoutMs} ms`);
        await sleep(50);
      }
    },
    async close() {
      await events.close();
      await worker.close(5_000);
      if (workerDb !== db.prisma) await workerDb.$disconnect();
      await (options.queueBackend ? queues.close() : closeTestQueues(queues));
      await sim.close();
      await db.drop();
      await rm(workspaceDir, { recursive: true, force: true });
    },
  };
}
