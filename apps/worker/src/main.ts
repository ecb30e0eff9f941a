// A worker process: consumes the queues it is told to (`--queues anthropic`), so each provider's
// workers run and scale separately. SIGTERM drains in-flight jobs (bounded) and exits.
import { hostname } from "node:os";
import { parseArgs } from "node:util";
import { createPrisma, migrate } from "@foundry/db";
import {
  coordinationFor,
  DEFAULT_FILE_LIMITS,
  DEFAULT_PRICES,
  GIT_PUSH_ENV_VARS,
  startWorkers,
} from "@foundry/engine";
import { PROVIDERS } from "@foundry/llm";
import { FoundryMetrics, type MetricsServer, serveMetrics } from "@foundry/metrics";
import { createModel, providerSettingsFromEnv } from "@foundry/providers";
import {
  checkRedisDatabase,
  chooseQueueBackend,
  describeQueueBackend,
  openQueueConnection,
  type QueueBackend,
  QueueSet,
} from "@foundry/queue";
import { createLogger, onShutdown } from "@foundry/runtime";
import { parseQueues, parseWorkerEnv, pickEnv } from "./config.ts";

let env: ReturnType<typeof parseWorkerEnv>;
let queueNames: ReturnType<typeof parseQueues>;
let concurrencyOverride: number | undefined;
let settings: ReturnType<typeof providerSettingsFromEnv>;
let backend: QueueBackend;
try {
  const { values } = parseArgs({
    options: { queues: { type: "string" }, concurrency: { type: "string" } },
    strict: true,
  });
  queueNames = parseQueues(values.queues ?? process.env.WORKER_QUEUES);
  if (values.concurrency !== undefined) {
    concurrencyOverride = Number(values.concurrency);
    if (!Number.isInteger(concurrencyOverride) || concurrencyOverride < 1)
      throw new Error("--concurrency: expected a positive integer");
  }
  env = parseWorkerEnv(process.env);
  backend = chooseQueueBackend(env);
  settings = providerSettingsFromEnv(process.env);
} catch (error) {
  console.error(`worker: ${(error as Error).message}`);
  console.error(
    "usage: node apps/worker/src/main.ts [--queues orchestrator,openai,anthropic,gemini|all] [--concurrency N]",
  );
  process.exit(1);
}

const log = createLogger({ name: "worker", level: env.LOG_LEVEL });
let queues: QueueSet;
try {
  if (backend.kind === "redis" && !backend.cluster) {
    const redisDatabase = await checkRedisDatabase(backend.url).catch((error: Error) => {
      throw new Error(`REDIS_URL: ${error.message}`, { cause: error });
    });
    if (!redisDatabase.checked) {
      log.warn(
        { db: redisDatabase.db },
        `REDIS_URL: Redis is not reachable yet (${redisDatabase.reason}); database ${redisDatabase.db} was not checked`,
      );
    }
  }
  await migrate(env.DATABASE_URL, { log: (message) => log.info({}, message) });
  queues = new QueueSet(await openQueueConnection(backend, { role: "worker" }));
} catch (error) {
  console.error(`worker: ${(error as Error).message}`);
  process.exit(1);
}
const db = createPrisma(env.DATABASE_URL);

const models = Object.fromEntries(
  PROVIDERS.filter((provider) => queueNames.includes(provider) && settings[provider]).map((provider) => [
    provider,
    createModel(provider, settings[provider]!),
  ]),
);
for (const provider of PROVIDERS.filter((name) => queueNames.includes(name) && !settings[name])) {
  log.warn(
    { provider },
    `${provider}: no ${provider.toUpperCase()}_API_KEY; its calls will fail until one is set`,
  );
}

// The engine reports calls, 429 pauses, limiter waits, breakers and phases; the job counts are
// those of the queues this worker consumes, read at scrape time.
const metrics = new FoundryMetrics({
  defaultLabels: { service: "worker" },
  processMetrics: true,
  queues: queueNames.map((name) => queues.get(name)),
  onCollectError: (error, collector) =>
    log.warn({ collector, error: error.message }, "metrics: a collector failed; its series are left out"),
});
let metricsServer: MetricsServer | undefined;
if (env.METRICS_PORT !== undefined) {
  try {
    metricsServer = await serveMetrics({
      metrics,
      port: env.METRICS_PORT,
      host: env.METRICS_HOST,
      onError: (error) => log.warn({ err: error }, "metrics: scrape failed"),
    });
  } catch (error) {
    console.error(`worker: METRICS_PORT: ${(error as Error).message}`);
    process.exit(1);
  }
}

const pool = await startWorkers({
  deps: {
    db,
    queues,
    log,
    observe: metrics.observer,
    workspaceDir: env.WORKSPACE_DIR,
    fileLimits: {
      ...DEFAULT_FILE_LIMITS,
      maxFiles: env.MAX_FILES,
      maxFileBytes: env.MAX_FILE_BYTES,
      maxTotalBytes: env.MAX_TOTAL_BYTES,
    },
    prices: { ...DEFAULT_PRICES, ...env.PRICES },
    models,
    limits: {
      openai: env.OPENAI_RATE_LIMIT,
      anthropic: env.ANTHROPIC_RATE_LIMIT,
      gemini: env.GEMINI_RATE_LIMIT,
    },
    tokenLimits: { openai: env.OPENAI_TPM, anthropic: env.ANTHROPIC_TPM, gemini: env.GEMINI_TPM },
    ...coordinationFor(queues, db),
    github: env.GITHUB_TOKEN
      ? {
          token: env.GITHUB_TOKEN,
          apiUrl: env.GITHUB_API_URL,
          owner: env.GITHUB_OWNER,
          privateRepos: env.GITHUB_PRIVATE === "true",
          env: pickEnv(process.env, GIT_PUSH_ENV_VARS),
        }
      : null,
    worker: { host: hostname(), pid: process.pid },
    callTimeoutMs: env.CALL_TIMEOUT_MS,
    breaker: { failureThreshold: env.BREAKER_FAILURES, cooldownMs: env.BREAKER_COOLDOWN_MS },
    cache: { ttlMs: env.CACHE_TTL, maxEntries: env.CACHE_MAX_ENTRIES },
    maxSpendPerHourUsd: env.MAX_SPEND_PER_HOUR_USD,
    durability: {
      leaseMs: env.CALL_LEASE_MS,
      outageTimeoutMs: env.INFRA_OUTAGE_TIMEOUT_MS,
      maxRateLimitPauseMs: env.MAX_RATE_LIMIT_PAUSE_MS,
      maxRateLimitHits: env.MAX_RATE_LIMIT_HITS,
    },
  },
  databaseUrl: env.DATABASE_URL,
  reconciler: { intervalMs: env.RECONCILE_INTERVAL_MS, sessionTimeoutMs: env.SESSION_TIMEOUT },
  lockMs: env.JOB_LOCK_MS,
  maxInFlight: {
    openai: env.OPENAI_MAX_IN_FLIGHT,
    anthropic: env.ANTHROPIC_MAX_IN_FLIGHT,
    gemini: env.GEMINI_MAX_IN_FLIGHT,
  },
  queues: queueNames,
  concurrency: {
    orchestrator: env.ORCHESTRATOR_CONCURRENCY,
    openai: concurrencyOverride ?? env.OPENAI_CONCURRENCY,
    anthropic: concurrencyOverride ?? env.ANTHROPIC_CONCURRENCY,
    gemini: concurrencyOverride ?? env.GEMINI_CONCURRENCY,
  },
});
log.info(
  {
    queues: queueNames,
    providers: Object.keys(models),
    host: hostname(),
    queueBackend: describeQueueBackend(backend),
    metrics: metricsServer ? `http://${metricsServer.host}:${metricsServer.port}/metrics` : null,
  },
  `worker consuming ${queueNames.join(", ")}`,
);

onShutdown(
  async () => {
    await pool.close(env.SHUTDOWN_TIMEOUT_MS);
    log.info({}, "workers closed");
    await metricsServer?.close();
    await queues.close();
    await db.$disconnect();
    log.info({}, "stopped");
  },
  // The pool waits SHUTDOWN_TIMEOUT_MS, then up to 5 s for aborted calls to be handed back.
  { timeoutMs: env.SHUTDOWN_TIMEOUT_MS + 8_000, log: (message) => log.info({}, message) },
);
