import { PROVIDERS, type ProviderName } from "@foundry/llm";
import { FlowProducer, Queue } from "bullmq";
import { Redis, type RedisOptions } from "ioredis";

/** The queue whose jobs are workflow phases. */
export const ORCHESTRATOR_QUEUE = "orchestrator";
/** Every queue the system uses: the orchestrator and one per provider. */
export const QUEUE_NAMES = [ORCHESTRATOR_QUEUE, ...PROVIDERS] as const;
export type QueueName = (typeof QUEUE_NAMES)[number];

/**
 * A Redis connection as BullMQ wants it: commands wait for a reconnect instead of failing
 * (`maxRetriesPerRequest: null`), which is what lets workers ride out a Redis restart.
 */
export function createRedis(url: string, options: RedisOptions = {}): Redis {
  return new Redis(url, { maxRetriesPerRequest: null, ...options });
}

/**
 * A connection for producers and health checks (the API): while Redis is unreachable, commands
 * fail at once instead of waiting in ioredis's offline queue, so a submission answers 503 and
 * `/readyz` says "not ready" rather than hanging. Workers keep `createRedis`.
 */
export function createProducerRedis(url: string): Redis {
  return new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 5_000 });
}

const DEPTH_STATES = [
  "waiting",
  "active",
  "delayed",
  "prioritized",
  "waiting-children",
  "failed",
  "completed",
] as const;

/** The jobs one queue holds, by state. */
export interface QueueDepth {
  name: string;
  waiting: number;
  active: number;
  delayed: number;
  prioritized: number;
  waitingChildren: number;
  failed: number;
  completed: number;
}

/** Queue handles for producers (the API, the engine adding call jobs). */
export class QueueSet {
  readonly prefix: string;
  /** The connection the queues share (also used for health checks). */
  readonly redis: Redis;
  readonly flows: FlowProducer;
  readonly #queues: Map<QueueName, Queue>;

  constructor(connection: Redis, prefix: string) {
    this.prefix = prefix;
    this.redis = connection;
    this.flows = new FlowProducer({ connection, prefix });
    this.#queues = new Map(QUEUE_NAMES.map((name) => [name, new Queue(name, { connection, prefix })]));
  }

  get(name: QueueName): Queue {
    return this.#queues.get(name) as Queue;
  }

  provider(name: ProviderName): Queue {
    return this.get(name);
  }

  all(): Queue[] {
    return [...this.#queues.values()];
  }

  /** How many jobs each queue holds, by state (one round trip per queue). */
  async depths(): Promise<QueueDepth[]> {
    return Promise.all(
      this.all().map(async (queue) => {
        const counts = await queue.getJobCounts(...DEPTH_STATES);
        const count = (state: (typeof DEPTH_STATES)[number]) => counts[state] ?? 0;
        return {
          name: queue.name,
          waiting: count("waiting"),
          active: count("active"),
          delayed: count("delayed"),
          prioritized: count("prioritized"),
          waitingChildren: count("waiting-children"),
          failed: count("failed"),
          completed: count("completed"),
        };
      }),
    );
  }

  async close(): Promise<void> {
    await Promise.all([this.flows.close(), ...this.all().map((queue) => queue.close())]);
  }
}
