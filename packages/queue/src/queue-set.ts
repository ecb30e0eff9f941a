import type { ProviderName } from "@foundry/llm";
import type { FlowProducer, JobsOptions, Processor, Queue, Worker } from "bullmq";
import { type JobKind, jobOptions, MAX_FINISHED_JOBS } from "./catalog.ts";
import type { QueueConnection, WorkerSettings } from "./connection.ts";
import { QUEUE_NAMES, type QueueName } from "./names.ts";

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

/**
 * Jobs removed per `Queue.clean` call by capFinishedJobs. BullMQ's `clean(grace, limit)` deletes in
 * rounds of min(limit, 10,000) until it has deleted `limit` or fewer came back, so a limit above
 * 10,000 that is not a multiple of it deletes up to a round too many (18,000 asked for, 20,000
 * deleted): each call here asks for 10,000 at most.
 */
const CLEAN_BATCH = 10_000;

/** capFinishedJobs leaves alone the jobs that finished less than this long ago: two hours. */
export const FINISHED_JOB_CAP_GRACE_MS = 2 * 3_600_000;

/**
 * Every queue of the system on one connection, whichever store it runs on: producers (the API, the
 * engine adding call jobs) and workers get their BullMQ objects here. Closing it closes them and
 * the connection.
 */
export class QueueSet {
  readonly connection: QueueConnection;
  readonly flows: FlowProducer;
  readonly #queues: Map<QueueName, Queue>;
  readonly #jobOptions: Readonly<Record<JobKind, Readonly<JobsOptions>>>;

  constructor(connection: QueueConnection) {
    this.connection = connection;
    this.flows = connection.flowProducer();
    this.#queues = new Map(QUEUE_NAMES.map((name) => [name, connection.queue(name)]));
    const backend = connection.backend.kind;
    this.#jobOptions = { phase: jobOptions("phase", backend), modelCall: jobOptions("modelCall", backend) };
  }

  /** The options jobs of `kind` are added with on this set's store (retry policy, retention). */
  jobOptions(kind: JobKind): Readonly<JobsOptions> {
    return this.#jobOptions[kind];
  }

  /** BullMQ's key prefix on Redis, or the schema of its tables on PostgreSQL. */
  get prefix(): string {
    return this.connection.prefix;
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

  /** A BullMQ worker for queue `name` on this set's store. */
  worker(name: QueueName, processor: Processor, settings: WorkerSettings): Worker {
    return this.connection.worker(name, processor, settings);
  }

  /** Pauses a provider's queue cluster-wide for at least `ms` (a 429); returns the pause in force. */
  pauseProvider(name: ProviderName, ms: number): Promise<number> {
    return this.connection.pauseAtLeast(this.provider(name), ms);
  }

  /** Resolves when the store answers. */
  ping(): Promise<void> {
    return this.connection.ping();
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

  /**
   * On PostgreSQL, removes completed and failed jobs of each queue beyond `max` of each, earliest in
   * the queue first, among those that finished more than `graceMs` ago (there the cap is not in the
   * jobs' options: see jobRetention); returns how many went. On Redis the jobs' options hold the cap
   * and this does nothing. It counts each queue's finished jobs, so it is for a periodic task (the
   * reconciler's housekeeping), not for every job.
   *
   * The grace keeps it away from flows still running: BullMQ's `clean` also deletes a cleaned child's
   * link to its parent and recounts the parent's pending children, which could race with a child
   * being added to a parent that is still gathering its calls.
   */
  async capFinishedJobs(
    max: number = MAX_FINISHED_JOBS,
    { graceMs = FINISHED_JOB_CAP_GRACE_MS, batch = CLEAN_BATCH }: { graceMs?: number; batch?: number } = {},
  ): Promise<number> {
    if (this.connection.backend.kind !== "postgres") return 0;
    let removed = 0;
    for (const queue of this.all()) {
      const counts = await queue.getJobCounts("completed", "failed");
      for (const state of ["completed", "failed"] as const) {
        let excess = (counts[state] ?? 0) - max;
        while (excess > 0) {
          const limit = Math.min(excess, batch);
          const gone = (await queue.clean(graceMs, limit, state)).length;
          removed += gone;
          excess -= gone;
          if (gone < limit) break;
        }
      }
    }
    return removed;
  }

  /** Closes the queues, then the connection. Workers made here must be closed first. */
  async close(): Promise<void> {
    await Promise.all([this.flows.close(), ...this.all().map((queue) => queue.close())]);
    await this.connection.close();
  }
}
