import { setTimeout as sleep } from "node:timers/promises";
import { ProviderError, type ProviderName } from "@foundry/llm";
import { type Job, Worker } from "bullmq";
import type { Redis } from "ioredis";
import { runCallJob, SHUTDOWN_REASON } from "./call-runner.ts";
import type { EngineDeps } from "./deps.ts";
import { bullmqLimiter } from "./limits/rate-limit.ts";
import { runPhaseJob } from "./phase-runner.ts";
import { ORCHESTRATOR_QUEUE, type QueueName } from "./queues.ts";
import { failSession } from "./store/sessions.ts";

export interface WorkerPoolOptions {
  deps: EngineDeps;
  /** A connection for the workers (BullMQ duplicates it for blocking commands). */
  connection: Redis;
  prefix: string;
  queues: readonly QueueName[];
  /** Jobs processed at once per queue by this process. Phases mostly wait, so their default is high. */
  concurrency: Partial<Record<QueueName, number>>;
  /**
   * How many times a call job may start before it fails for good, counting starts that ended in a
   * rate-limit pause (which BullMQ does not count as attempts). @default 200
   */
  maxStartedAttempts?: number;
}

export interface WorkerPool {
  readonly workers: readonly Worker[];
  /** Stops taking jobs and waits for active ones, at most `timeoutMs`; then cancels them. */
  close(timeoutMs: number): Promise<void>;
}

const DEFAULT_CONCURRENCY: Record<QueueName, number> = {
  orchestrator: 50,
  openai: 8,
  anthropic: 8,
  gemini: 8,
};

/** Starts one BullMQ worker per queue named, all in this process. */
export function startWorkers(options: WorkerPoolOptions): WorkerPool {
  const { deps } = options;
  const workers = options.queues.map((name) => {
    const log = deps.log.child({ queue: name });
    const isOrchestrator = name === ORCHESTRATOR_QUEUE;
    const limit = isOrchestrator ? undefined : deps.limits[name as ProviderName];
    const worker = new Worker(
      name,
      async (job: Job, token?: string, signal?: AbortSignal) =>
        isOrchestrator ? runPhaseJob(deps, job, token as string) : runCallJob(deps, job, token, signal),
      {
        connection: options.connection,
        prefix: options.prefix,
        concurrency: options.concurrency[name] ?? DEFAULT_CONCURRENCY[name],
        // A queue with a limiter can be paused cluster-wide on a 429 (queue.rateLimit needs one).
        ...(!isOrchestrator && { limiter: limit ? bullmqLimiter(limit) : { max: 100_000, duration: 1_000 } }),
        ...(!isOrchestrator && { maxStartedAttempts: options.maxStartedAttempts ?? 200 }),
      },
    );
    worker.on("failed", (job, error) => {
      if (!job) return;
      const final = job.finishedOn !== undefined;
      const context = {
        jobId: job.id,
        name: job.name,
        attempt: job.attemptsMade,
        final,
        error: error.message,
      };
      if (!final) {
        log.warn(context, "job failed; will retry");
        return;
      }
      log.error(context, "job failed");
      const sessionId = (job.data as { sessionId?: unknown })?.sessionId;
      const phase = (job.data as { phase?: unknown })?.phase;
      if (typeof sessionId !== "string") return;
      // A phase fails "because its child failed" right after the child itself: the child's own
      // report carries the real reason, so a cascade is recorded only if that report never came.
      const cascade = CASCADE.test(error.message);
      void recordFailure(
        deps,
        sessionId,
        cascade
          ? `${describeFailure(name, job, error)} (its cause was not recorded)`
          : describeFailure(name, job, error),
        cascade || typeof phase !== "string" ? null : phase,
        cascade ? CASCADE_GRACE_MS : 0,
        log,
      );
    });
    worker.on("lockRenewalFailed", (jobIds) => {
      for (const id of jobIds) worker.cancelJob(id, "lock lost: another worker will run this job");
      log.warn({ jobIds }, "lock renewal failed; cancelled");
    });
    worker.on("error", (error) => log.error({ error: error.message }, "worker error"));
    return worker;
  });

  return {
    workers,
    async close(timeoutMs: number) {
      const closing = Promise.all(workers.map((worker) => worker.close()));
      const timedOut = await Promise.race([
        closing.then(() => false),
        new Promise<boolean>((resolve) => setTimeout(resolve, timeoutMs, true).unref()),
      ]);
      if (timedOut) {
        // Calls still in flight are aborted and handed back to the queue without using an attempt.
        for (const worker of workers) worker.cancelAllJobs(SHUTDOWN_REASON);
        await Promise.race([closing, new Promise((resolve) => setTimeout(resolve, 5_000).unref())]);
      }
    },
  };
}

/** BullMQ's reason for a parent failed by `failParentOnFailure`: `child <queue key>:<id> failed`. */
const CASCADE = /^child \S+ failed$/;
const CASCADE_GRACE_MS = 3_000;

/**
 * Marks the session failed, retrying for about a minute (the failure that ended the job may be
 * Postgres itself being briefly unreachable), so that a session does not stay "running".
 */
async function recordFailure(
  deps: EngineDeps,
  sessionId: string,
  reason: string,
  phase: string | null,
  delayMs: number,
  log: EngineDeps["log"],
): Promise<void> {
  if (delayMs > 0) await sleep(delayMs, undefined, { ref: false });
  for (let attempt = 1; ; attempt++) {
    try {
      await failSession(deps.db, sessionId, reason, phase);
      return;
    } catch (cause) {
      if (attempt >= 8) {
        log.error({ sessionId, reason, error: String(cause) }, "could not record the session's failure");
        return;
      }
      await sleep(250 * 2 ** attempt, undefined, { ref: false });
    }
  }
}

function describeFailure(queue: QueueName, job: Job, error: Error): string {
  const where =
    queue === ORCHESTRATOR_QUEUE
      ? `phase ${(job.data as { phase: string }).phase}`
      : `${queue} call ${job.name.replace(/^call /, "")}`;
  const attempts = job.attemptsMade > 1 ? ` after ${job.attemptsMade} attempts` : "";
  const cause = error instanceof ProviderError ? error.message : error.message || error.name;
  return `${where} failed${attempts}: ${cause}`;
}
