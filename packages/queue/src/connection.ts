import { readFileSync } from "node:fs";
import { isPostgresUnavailable } from "@foundry/errors";
import {
  ConnectionClosedError,
  createPostgresBackend,
  FlowProducer,
  MINIMUM_POSTGRES_VERSION,
  type Processor,
  Queue,
  QueueEvents,
  runMigrations,
  UnsupportedPostgresVersionError,
  Worker,
  type WorkerOptions,
  withBackend,
} from "bullmq";
import { Cluster, Redis, type RedisOptions } from "ioredis";
import pg from "pg";
import { POSTGRES_QUEUE_SCHEMA, type QueueBackend, QueueBackendError } from "./backend.ts";
import { type QueueErrorListener, throttleErrors, warnOnStderr } from "./connection-errors.ts";

/** ioredis's client for one server or a cluster; both run the Lua scripts the same way. */
export type RedisClient = Redis | Cluster;

/**
 * What the processes do with a connection: a producer (the API) fails fast while the store is
 * unreachable, so a submission answers 503 instead of hanging; a worker waits for it to come back.
 */
export type QueueRole = "producer" | "worker";

export interface OpenQueueOptions {
  role: QueueRole;
  /** PostgreSQL: create or upgrade BullMQ's tables first (every process does, under a lock). @default true */
  migrate?: boolean;
  /** PostgreSQL: connections in the pool; each worker holds one for LISTEN. @default 20 */
  poolSize?: number;
  /**
   * Told of the connection's errors (the store unreachable, a connection dropped), from every queue,
   * flow producer, worker and listener built on it: each trouble once, then at most every 30 s
   * while it lasts (throttleErrors). @default one line on stderr
   */
  onError?: QueueErrorListener;
}

/** Worker options this layer sets itself. */
export type WorkerSettings = Omit<WorkerOptions, "connection" | "prefix">;

/**
 * One process's way to its queue store: builds BullMQ's queues, flow producers and workers on it,
 * and answers health checks. The store-specific parts of the engine (the limiter, the breaker, the
 * 429 pause) reach it through `redis` or `pool`, exactly one of which is set.
 */
export interface QueueConnection {
  readonly backend: QueueBackend;
  /** BullMQ's key prefix on Redis; on PostgreSQL the schema of BullMQ's tables. */
  readonly prefix: string;
  /** Commands (Lua scripts) on Redis; null on PostgreSQL. */
  readonly redis: RedisClient | null;
  /** A pool whose connections use BullMQ's schema; null on Redis. */
  readonly pool: pg.Pool | null;
  queue(name: string): Queue;
  flowProducer(): FlowProducer;
  worker(name: string, processor: Processor, settings: WorkerSettings): Worker;
  /** A listener for queue `name`'s job events (each holds its own blocking connection; close it). */
  queueEvents(name: string): QueueEvents;
  /** Resolves when the store answers; rejects with its error otherwise. */
  ping(): Promise<void>;
  /**
   * Pauses `queue` for every worker of the cluster for at least `ms`, never shortening a longer
   * pause in force (workers must have a limiter for BullMQ to honour it). Returns the pause in force.
   */
  pauseAtLeast(queue: Queue, ms: number): Promise<number>;
  close(): Promise<void>;
}

/** Opens a connection to `backend` (on PostgreSQL, after checking the server and migrating BullMQ's tables). */
export async function openQueueConnection(
  backend: QueueBackend,
  options: OpenQueueOptions,
): Promise<QueueConnection> {
  const onError = throttleErrors(options.onError ?? warnOnStderr);
  if (backend.kind === "postgres") return openPostgres(backend, options, onError);
  const connection = openRedis(backend, options, onError);
  // A producer's commands fail while it is not connected: give it the moment a first connect
  // takes, without failing the start of a process whose Redis is not up yet.
  if (options.role === "producer") await connected(connection.redis as RedisClient, 5_000);
  return connection;
}

/**
 * A Redis connection as BullMQ wants it for workers: commands wait for a reconnect instead of
 * failing (`maxRetriesPerRequest: null`), which is what lets workers ride out a Redis restart.
 */
export function createRedis(url: string, options: RedisOptions = {}): Redis {
  return new Redis(url, { maxRetriesPerRequest: null, ...options });
}

/**
 * A connection for producers and health checks (the API): while Redis is unreachable, commands
 * fail at once instead of waiting in ioredis's offline queue.
 */
function createProducerRedis(url: string): Redis {
  return new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 5_000 });
}

function createRedisClient(backend: Extract<QueueBackend, { kind: "redis" }>, role: QueueRole): RedisClient {
  if (!backend.cluster)
    return role === "producer" ? createProducerRedis(backend.url) : createRedis(backend.url);
  const url = new URL(backend.url);
  const redisOptions: RedisOptions = {
    ...(url.password && { password: decodeURIComponent(url.password) }),
    ...(url.username && { username: decodeURIComponent(url.username) }),
    ...(url.protocol === "rediss:" && { tls: {} }),
    ...(role === "producer"
      ? { maxRetriesPerRequest: 1, connectTimeout: 5_000 }
      : { maxRetriesPerRequest: null }),
  };
  return new Cluster([{ host: url.hostname, port: Number(url.port || 6379) }], {
    redisOptions,
    enableOfflineQueue: role !== "producer",
  });
}

function connected(redis: RedisClient, timeoutMs: number): Promise<void> {
  if (redis.status === "ready") return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      redis.off("ready", done);
      redis.off("error", done);
      resolve();
    };
    const timer = setTimeout(done, timeoutMs);
    timer.unref();
    redis.once("ready", done);
    redis.once("error", done);
  });
}

const pauseScript = readFileSync(new URL("./extend-pause.lua", import.meta.url), "utf8");

/** Routes the errors `emitter` emits to `onError` (without a listener BullMQ prints each whole). */
function reporting<T extends { on(event: "error", listener: (error: Error) => void): unknown }>(
  emitter: T,
  onError: (error: Error) => void,
): T {
  emitter.on("error", onError);
  return emitter;
}

function openRedis(
  backend: Extract<QueueBackend, { kind: "redis" }>,
  options: OpenQueueOptions,
  onError: (error: Error) => void,
): QueueConnection {
  const redis = createRedisClient(backend, options.role);
  // Workers block on their own connections (BullMQ duplicates this one for each).
  let workerRedis: RedisClient | undefined;
  const listeners: RedisClient[] = [];
  const { prefix } = backend;
  return {
    backend,
    prefix,
    redis,
    pool: null,
    queue: (name) => reporting(new Queue(name, { connection: redis, prefix }), onError),
    flowProducer: () => reporting(new FlowProducer({ connection: redis, prefix }), onError),
    worker(name, processor, settings) {
      workerRedis ??= createRedisClient(backend, "worker");
      return reporting(
        new Worker(name, processor, { ...settings, connection: workerRedis, prefix }),
        onError,
      );
    },
    queueEvents(name) {
      // BullMQ blocks on this connection and does not close one it was given: it is closed with ours.
      const blocking = createRedisClient(backend, "worker");
      listeners.push(blocking);
      return reporting(new QueueEvents(name, { connection: blocking, prefix }), onError);
    },
    async ping() {
      await redis.ping();
    },
    async pauseAtLeast(queue, ms) {
      const key = queue.keys.limiter as string;
      const pause = Math.max(1, Math.ceil(ms));
      return Number(await redis.eval(pauseScript, 1, key, pause, Number.MAX_SAFE_INTEGER));
    },
    async close() {
      redis.disconnect();
      workerRedis?.disconnect();
      for (const listener of listeners) listener.disconnect();
    },
  };
}

/**
 * BullMQ's PostgreSQL backends, each of which forgets a failed readiness check. A backend (one per
 * queue, flow producer, worker) and its connection check BullMQ's tables on the first query and
 * keep that check's promise, a rejected one too: a single refused connection at that moment (the
 * server restarting, no connection slot left) failed every later query of that object until the
 * process restarted. Here the next query checks again.
 */
const PostgresClasses = withBackend((name, opts, factoryOpts) => {
  const backend = createPostgresBackend(
    name,
    opts as Parameters<typeof createPostgresBackend>[1],
    factoryOpts,
  );
  forgetFailedReadiness(backend.connection);
  forgetFailedReadiness(backend);
  retryFinishesOnConnectionLoss(backend);
  return backend;
});

/** The backend's statements that end a job's attempt: completed, failed, retried, delayed for a retry. */
const FINISHES = ["moveToCompleted", "moveToFailed", "retryJob", "moveToDelayed"] as const;

/**
 * Makes a finish that PostgreSQL did not take because the server went away (a killed connection, a
 * restart, a failover; see isPostgresUnavailable) reach BullMQ's worker as a lost connection, as it
 * does on Redis. The worker then runs the same finish again after its `runRetryDelay`, with the
 * job's attempt kept, where it otherwise counted as the job failing: an attempt spent on the fault,
 * or a job on its last attempt failed for good (and its flow's parent with it). Running a finish
 * again is safe: one that did commit before its connection broke is refused the second time (the job
 * is no longer active under the worker's lock), and the job stays as the first one left it.
 */
function retryFinishesOnConnectionLoss(target: object): void {
  const backend = target as Record<(typeof FINISHES)[number], (...args: unknown[]) => Promise<unknown>>;
  for (const name of FINISHES) {
    const finish = backend[name].bind(backend);
    backend[name] = async (...args) => {
      try {
        return await finish(...args);
      } catch (error) {
        if (isPostgresUnavailable(error)) throw new ConnectionClosedError((error as Error).message, error);
        throw error;
      }
    };
  }
}

/**
 * How long a PostgreSQL worker waits before it runs again a finish or a fetch that met a lost
 * connection (BullMQ's `runRetryDelay`, 15 s by default). The pool opens a new connection for the next
 * statement at once, and a job's lock is not renewed while its finish waits.
 */
const POSTGRES_RUN_RETRY_DELAY_MS = 1_000;

/** Makes `target.waitUntilReady()` drop a rejected check (its private `readyPromise`) so the next call checks again. */
function forgetFailedReadiness(target: object): void {
  const memo = target as { waitUntilReady(): Promise<void>; readyPromise?: Promise<void> };
  const check = memo.waitUntilReady.bind(memo);
  memo.waitUntilReady = () => {
    const ready = check();
    // Set before the check's first await, so this is the promise the next caller would get.
    const kept = memo.readyPromise;
    ready.catch(() => {
      if (memo.readyPromise === kept) memo.readyPromise = undefined;
    });
    return ready;
  };
}

// The same contract as extend-pause.lua, on BullMQ's `rate_limit` row (points at the maximum means
// "paused until expire_at_ms"), atomic under the row lock the upsert takes.
const PAUSE_SQL = `
  INSERT INTO rate_limit AS r (queue, points, expire_at_ms)
  VALUES ($1::text, $2::bigint, $3::bigint + $4::bigint)
  ON CONFLICT (queue) DO UPDATE SET
    points = $2::bigint,
    expire_at_ms = CASE WHEN r.points = $2::bigint AND r.expire_at_ms >= $3::bigint + $4::bigint
      THEN r.expire_at_ms ELSE $3::bigint + $4::bigint END
  RETURNING expire_at_ms - $3::bigint AS pause`;

async function openPostgres(
  backend: Extract<QueueBackend, { kind: "postgres" }>,
  options: OpenQueueOptions,
  onError: (error: Error) => void,
): Promise<QueueConnection> {
  const pool = new pg.Pool({
    connectionString: backend.url,
    max: options.poolSize ?? 20,
    keepAlive: true,
    // Every connection resolves BullMQ's unqualified names in its schema.
    options: `-c search_path=${POSTGRES_QUEUE_SCHEMA}`,
    connectionTimeoutMillis: options.role === "producer" ? 5_000 : 0,
  });
  // An idle connection that drops is replaced by the pool; the error must not end the process. Every
  // BullMQ object on the pool re-emits it too, the same object: it is reported once.
  pool.on("error", onError);
  // Each BullMQ queue and worker on the pool listens for its errors.
  pool.setMaxListeners(0);
  if (options.migrate ?? true) {
    try {
      await migrateQueueTables(pool);
    } catch (error) {
      await pool.end();
      throw error;
    }
  }
  const connection = pool as never;
  return {
    backend,
    prefix: POSTGRES_QUEUE_SCHEMA,
    redis: null,
    pool,
    queue: (name) => reporting(new PostgresClasses.Queue(name, { connection }) as unknown as Queue, onError),
    flowProducer: () =>
      reporting(new PostgresClasses.FlowProducer({ connection }) as unknown as FlowProducer, onError),
    worker: (name, processor, settings) =>
      reporting(
        new PostgresClasses.Worker(name, processor as never, {
          runRetryDelay: POSTGRES_RUN_RETRY_DELAY_MS,
          ...settings,
          connection,
        }) as unknown as Worker,
        onError,
      ),
    queueEvents: (name) =>
      reporting(new PostgresClasses.QueueEvents(name, { connection }) as unknown as QueueEvents, onError),
    async ping() {
      await pool.query("SELECT 1");
    },
    async pauseAtLeast(queue, ms) {
      const pause = Math.max(1, Math.ceil(ms));
      const { rows } = await pool.query<{ pause: string }>(PAUSE_SQL, [
        queue.name,
        Number.MAX_SAFE_INTEGER,
        Date.now(),
        pause,
      ]);
      return Number(rows[0]?.pause ?? pause);
    },
    async close() {
      await pool.end();
    },
  };
}

/** Creates or upgrades BullMQ's tables in their schema; refuses a server older than BullMQ supports. */
async function migrateQueueTables(pool: pg.Pool): Promise<void> {
  const client = await pool.connect();
  try {
    await runMigrations(client, POSTGRES_QUEUE_SCHEMA);
  } catch (error) {
    if (error instanceof UnsupportedPostgresVersionError) {
      throw new QueueBackendError(
        `DATABASE_URL: the queues on PostgreSQL need PostgreSQL ${MINIMUM_POSTGRES_VERSION} or newer (${error.message}); upgrade it, or set QUEUE_BACKEND=redis with REDIS_URL`,
        { cause: error },
      );
    }
    throw error;
  } finally {
    client.release();
  }
}
