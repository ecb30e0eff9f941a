// The queue backend the cluster runs on, its server and the environment the API and the workers get
// for it: a private redis-server, or BullMQ's tables in each scenario's PostgreSQL database.
// Scenarios that need Redis itself (flush it, restart it) say so with `needs`.
import { join } from "node:path";
import { startPrivateRedis } from "@foundry/devstack";
import { openQueueConnection, QueueSet } from "@foundry/queue";
import { Redis } from "ioredis";
import { deleteKeysWithPrefix } from "../support/cluster.ts";

export const BACKEND_NAMES = ["redis", "postgres"] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

/** A private redis-server (append-only) the suite can flush, stop and start again on its port and data. */
export interface RedisControl {
  readonly url: string;
  readonly port: number;
  /** Whether the server is running (false between stop() and start()). */
  isUp(): boolean;
  /** `FLUSHALL`: every key of every prefix is gone (as an operator's mistake or a failover to an empty replica). */
  flushAll(): Promise<void>;
  /** SIGTERM: Redis writes its AOF and exits; clients see connection errors until start(). */
  stop(): Promise<void>;
  /** Starts it again on the same port and data directory (the AOF is replayed). */
  start(): Promise<void>;
}

export interface QueueBackend {
  readonly name: BackendName;
  /** One line for the run's header. */
  readonly summary: string;
  /** The variables the API and the workers need for this backend (README "Configuration"). */
  env(): Record<string, string>;
  /** A cluster's queues on their own connection (to wait for workers); `close` ends both. */
  openQueues(target: QueueTarget): Promise<{ queues: QueueSet; close(): Promise<void> }>;
  /** Removes what a cluster left in the backend (best effort: the server may be down). */
  forget(target: QueueTarget): Promise<void>;
  /** The Redis server, for the scenarios that need one; null on another backend. */
  readonly redis: RedisControl | null;
  stop(): Promise<void>;
}

/** Where one scenario's cluster keeps its queues: a key prefix on Redis, its database on PostgreSQL. */
export interface QueueTarget {
  prefix: string;
  databaseUrl: string;
}

/** Starts the named backend's server under `dataDir`. */
export async function startBackend(
  name: BackendName,
  options: { dataDir: string; log: (line: string) => void },
): Promise<QueueBackend> {
  switch (name) {
    case "redis":
      return startRedisBackend(join(options.dataDir, "redis"), options.log);
    case "postgres":
      return postgresBackend();
    default:
      return name satisfies never;
  }
}

async function startRedisBackend(dataDir: string, log: (line: string) => void): Promise<QueueBackend> {
  let server = await startPrivateRedis({ dataDir, log });
  const { port, url } = server;
  let up = true;
  // Short-lived connections only: a long-lived one would log reconnect noise while Redis is down.
  const withClient = async <T>(use: (client: Redis) => Promise<T>): Promise<T> => {
    const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 2_000 });
    client.on("error", () => {});
    try {
      await client.connect();
      return await use(client);
    } finally {
      client.disconnect();
    }
  };
  const redis: RedisControl = {
    url,
    port,
    isUp: () => up,
    flushAll: () => withClient((client) => client.flushall()).then(() => undefined),
    async stop() {
      up = false;
      await server.stop();
    },
    async start() {
      server = await startPrivateRedis({ dataDir, port, log });
      up = true;
    },
  };
  return {
    name: "redis",
    summary: `redis: private redis-server 127.0.0.1:${port} (appendonly yes)`,
    env: () => ({ QUEUE_BACKEND: "redis", REDIS_URL: url }),
    async openQueues({ prefix }) {
      const connection = await openQueueConnection(
        { kind: "redis", url, prefix, cluster: false },
        { role: "worker" },
      );
      connection.redis?.on("error", () => {});
      const queues = new QueueSet(connection);
      return {
        queues,
        async close() {
          await queues.close().catch(() => {});
        },
      };
    },
    async forget({ prefix }) {
      if (!up) return;
      await withClient((client) => deleteKeysWithPrefix(client, prefix)).catch(() => {});
    },
    redis,
    stop: () => server.stop(),
  };
}

/** The queues in BullMQ's tables (schema `bullmq`) of each scenario's own database: nothing to start. */
function postgresBackend(): QueueBackend {
  return {
    name: "postgres",
    summary: "queues: postgres (schema bullmq in each scenario's database)",
    env: () => ({ QUEUE_BACKEND: "postgres" }),
    async openQueues({ databaseUrl }) {
      const connection = await openQueueConnection(
        { kind: "postgres", url: databaseUrl },
        { role: "worker" },
      );
      const queues = new QueueSet(connection);
      return {
        queues,
        async close() {
          await queues.close().catch(() => {});
        },
      };
    },
    // The scenario's database, queues included, is dropped with it.
    async forget() {},
    redis: null,
    stop: async () => {},
  };
}
