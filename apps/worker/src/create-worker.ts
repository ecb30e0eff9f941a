// The worker's composition root: from a parsed configuration to BullMQ workers running the engine,
// with the database, the queues, the models, the cluster-wide limiter and breakers, and metrics.
// main.ts calls it with the configuration it read from the environment; tests that run workers
// in-process call it with theirs.
import { createPrisma, migrate, type PrismaClient } from "@foundry/db";
import {
  coordinationFor,
  type EngineDeps,
  type Logger,
  startWorkers,
  type WorkerPool,
  type WorkerPoolOptions,
} from "@foundry/engine";
import { PROVIDERS } from "@foundry/llm";
import { FoundryMetrics, type MetricsServer, serveMetrics } from "@foundry/metrics";
import { createModel, type ProviderSettingsByName } from "@foundry/providers";
import {
  checkQueueRedis,
  openQueueConnection,
  type QueueBackend,
  type QueueName,
  QueueSet,
} from "@foundry/queue";
import { IdleTrim } from "./idle-trim.ts";

/** The engine's settings: its dependencies less the ones createWorker builds. */
export type EngineSettings = Omit<
  EngineDeps,
  "db" | "queues" | "log" | "models" | "limiter" | "breakers" | "gate" | "observe"
>;

/** Everything a worker is configured with, already parsed (see `workerConfigFromEnv`). */
export interface WorkerConfig {
  /** The PostgreSQL database of sessions and the journal; also where cancels are LISTENed for. */
  databaseUrl: string;
  /** Where the queues are (`chooseQueueBackend`). */
  queueBackend: QueueBackend;
  /** The queues this worker consumes; none starts no BullMQ worker. */
  queues: readonly QueueName[];
  /** Jobs at once per queue. @default the engine's (50 phases, 8 calls per provider) */
  concurrency?: Partial<Record<QueueName, number>>;
  /**
   * Provider keys and base URLs (`providerSettingsFromEnv`): a model is made for each provider queue
   * consumed; one without settings fails its calls until it has them.
   */
  providers: ProviderSettingsByName;
  engine: EngineSettings;
  /** The rest of `startWorkers`' options: reconciler, job lock, calls in flight, started attempts. */
  pool?: Pick<WorkerPoolOptions, "reconciler" | "lockMs" | "maxInFlight" | "maxStartedAttempts">;
  /**
   * After this long without a job, give the heap's free memory back (`IdleTrim`); 0 or absent:
   * never. @default absent (`IDLE_TRIM_MS`, 10 s, in a worker started from the environment)
   */
  idleTrimMs?: number;
  /** Serve GET /metrics here. @default not served */
  metricsServer?: { port: number; host: string };
  log: Logger;
}

/**
 * A database client and queues the caller opened and closes (tests share them with their API).
 * Given these, createWorker neither checks Redis nor migrates: the caller's database is ready.
 */
export interface WorkerResources {
  db: PrismaClient;
  queues: QueueSet;
}

/** A running worker. */
export interface FoundryWorker {
  readonly deps: EngineDeps;
  readonly pool: WorkerPool;
  readonly queues: QueueSet;
  readonly metrics: FoundryMetrics;
  /** Where GET /metrics is served, if it is. */
  readonly metricsUrl: string | null;
  /** Models made for the provider queues consumed. */
  readonly providers: readonly string[];
  /**
   * Stops taking jobs, waits up to `timeoutMs` for active ones (then hands them back), and closes
   * what createWorker opened.
   */
  close(timeoutMs: number): Promise<void>;
}

/**
 * Opens (or takes) the database and queues, applies migrations, makes the models, serves metrics
 * and starts the BullMQ workers of `config.queues`.
 *
 * @throws Error naming the setting (`REDIS_URL: …`, `METRICS_PORT: …`) when start-up fails; what
 *   was opened by then is closed
 * @example
 * const worker = await createWorker(workerConfigFromEnv(env, { queues, providers, log }));
 * onShutdown(() => worker.close(env.SHUTDOWN_TIMEOUT_MS), { timeoutMs });
 */
export async function createWorker(
  config: WorkerConfig,
  resources?: WorkerResources,
): Promise<FoundryWorker> {
  const { log } = config;
  const owned: (() => Promise<unknown>)[] = [];
  const closeOwned = async () => {
    for (const close of owned.reverse()) await close();
  };
  try {
    let queues: QueueSet;
    let db: PrismaClient;
    if (resources) {
      ({ queues, db } = resources);
    } else {
      await checkQueueRedis(config.queueBackend, log);
      await migrate(config.databaseUrl, { log: (message) => log.info({}, message) });
      const prisma = createPrisma(config.databaseUrl);
      owned.push(() => prisma.$disconnect());
      db = prisma;
      const opened = new QueueSet(
        await openQueueConnection(config.queueBackend, {
          role: "worker",
          onError: (error, repeats) =>
            log.warn({ error: error.message, repeats }, "queue store: connection problem"),
        }),
      );
      owned.push(() => opened.close());
      queues = opened;
    }

    const consumed = PROVIDERS.filter((provider) => config.queues.includes(provider));
    const models = Object.fromEntries(
      await Promise.all(
        consumed.flatMap((provider) => {
          const settings = config.providers[provider];
          return settings
            ? [createModel(provider, settings).then((model) => [provider, model] as const)]
            : [];
        }),
      ),
    );
    for (const provider of consumed.filter((name) => !config.providers[name])) {
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
      memoryTrims: Boolean(config.idleTrimMs),
      queues: config.queues.map((name) => queues.get(name)),
      onCollectError: (error, collector) =>
        log.warn({ collector, error: error.message }, "metrics: a collector failed; its series are left out"),
    });
    let metricsServer: MetricsServer | undefined;
    if (config.metricsServer) {
      metricsServer = await serveMetrics({
        metrics,
        ...config.metricsServer,
        onError: (error) => log.warn({ err: error }, "metrics: scrape failed"),
      }).catch((error: Error) => {
        throw new Error(`METRICS_PORT: ${error.message}`, { cause: error });
      });
      const server = metricsServer;
      owned.push(() => server.close());
    }

    const deps: EngineDeps = {
      ...config.engine,
      db,
      queues,
      log,
      models,
      observe: metrics.observer,
      ...coordinationFor(queues, db),
    };
    const trim = config.idleTrimMs
      ? new IdleTrim({ afterMs: config.idleTrimMs, log, onTrim: (done) => metrics.observeMemoryTrim(done) })
      : null;
    if (trim) owned.push(async () => trim.close());
    const pool = await startWorkers({
      ...config.pool,
      deps,
      databaseUrl: config.databaseUrl,
      queues: config.queues,
      concurrency: config.concurrency ?? {},
      ...(trim && { activity: trim }),
    });

    return {
      deps,
      pool,
      queues,
      metrics,
      metricsUrl: metricsServer ? `http://${metricsServer.host}:${metricsServer.port}/metrics` : null,
      providers: Object.keys(models),
      async close(timeoutMs) {
        await pool.close(timeoutMs);
        log.info({}, "workers closed");
        await closeOwned();
      },
    };
  } catch (error) {
    await closeOwned().catch(() => {});
    throw error;
  }
}
