import { setTimeout as sleep } from "node:timers/promises";
import { listen, type NotificationListener } from "@foundry/db";
import type { ProviderName } from "@foundry/llm";
import { ORCHESTRATOR_QUEUE, type QueueName } from "@foundry/queue";
import { CANCEL_CHANNEL, EngineError, InfrastructureError } from "@foundry/store";
import {
  DelayedError,
  type Job,
  RateLimitError,
  UnrecoverableError,
  WaitingChildrenError,
  WaitingError,
  type Worker,
} from "bullmq";
import { runCallJob } from "./call-runner.ts";
import type { EngineDeps } from "./deps.ts";
import { ABORT_REASONS } from "./durability.ts";
import {
  type Failure,
  failureFromJournal,
  failureOfError,
  isFinal,
  recordSessionFailure,
} from "./failures.ts";
import { isJobGone } from "./infrastructure.ts";
import { SessionFailure } from "./job-control.ts";
import { bullmqLimiter } from "./limits/rate-limit.ts";
import { runPhaseJob } from "./phase-runner.ts";
import { Reconciler, type ReconcilerOptions } from "./reconciler.ts";
import { SessionMemo } from "./session-memo.ts";

export interface WorkerPoolOptions {
  deps: EngineDeps;
  queues: readonly QueueName[];
  /** Jobs processed at once per queue by this process. Phases mostly wait, so their default is high. */
  concurrency: Partial<Record<QueueName, number>>;
  /**
   * How many times a call job may start before it fails for good, counting starts that ended in a
   * rate-limit pause or a wait for another delivery's lease (which BullMQ does not count as
   * attempts). @default 200
   */
  maxStartedAttempts?: number;
  /**
   * PostgreSQL URL to LISTEN for cancels on, so requests in flight for a cancelled session stop at
   * once; without it they stop at their next lease renewal.
   */
  databaseUrl?: string;
  /** The reconciler, run when the pool consumes the orchestrator queue; `false` turns it off. */
  reconciler?: Partial<ReconcilerOptions> | false;
  /**
   * How long a job's lock lasts without renewal; a worker that died is noticed (its jobs stalled and
   * run again elsewhere) within about twice this. @default 30000
   */
  lockMs?: number;
  /**
   * Calls in flight per provider for the whole cluster (`<PROVIDER>_MAX_IN_FLIGHT`, BullMQ's global
   * concurrency on the provider's queue): long calls hold slots that a per-process concurrency
   * cannot bound. Set on the queue when the pool starts; a provider left out has its cap removed.
   */
  maxInFlight?: Partial<Record<ProviderName, number>>;
  /** Told when each job this pool processes starts and ends (the worker's idle memory trim). */
  activity?: JobActivity;
}

/** Hears this process's jobs start and end, whatever their outcome (retry, delay, children). */
export interface JobActivity {
  started(): void;
  ended(): void;
}

export interface WorkerPool {
  readonly workers: readonly Worker[];
  readonly reconciler: Reconciler | null;
  /** Stops taking jobs and waits for active ones, at most `timeoutMs`; then cancels them. */
  close(timeoutMs: number): Promise<void>;
}

const DEFAULT_CONCURRENCY: Record<QueueName, number> = {
  orchestrator: 50,
  openai: 8,
  anthropic: 8,
  gemini: 8,
};

/** A phase job failed by its child is recorded by the child's own report; this is how long to wait for it. */
const CASCADE_GRACE_MS = 2_000;

/**
 * Starts one BullMQ worker per queue named, all in this process, with what keeps sessions honest
 * around them: each final failure is recorded on its session with a reason and a code; a cancel
 * announced by PostgreSQL NOTIFY aborts this process's jobs of that session; and, with the
 * orchestrator queue, the reconciler.
 */
export async function startWorkers(options: WorkerPoolOptions): Promise<WorkerPool> {
  const { deps } = options;
  /** This process's jobs in flight, by session, so a cancel can abort them. */
  const active = new Map<string, Map<string, Worker>>();
  /** The orchestrator's memory of its sessions' immutable parts (workflow, finished outputs). */
  const memo = new SessionMemo();
  /** Errors whose failure a processor already recorded (the `failed` event then has nothing to add). */
  const recorded = new WeakSet<object>();

  for (const name of options.queues) {
    if (name === ORCHESTRATOR_QUEUE) continue;
    const queue = deps.queues.provider(name as ProviderName);
    const cap = options.maxInFlight?.[name as ProviderName];
    await (cap === undefined ? queue.removeGlobalConcurrency() : queue.setGlobalConcurrency(cap));
  }

  const workers = options.queues.map((name) => {
    const log = deps.log.child({ queue: name });
    const isOrchestrator = name === ORCHESTRATOR_QUEUE;
    const limit = isOrchestrator ? undefined : deps.limits[name as ProviderName];
    const worker: Worker = deps.queues.worker(
      name,
      async (job: Job, token?: string, signal?: AbortSignal) => {
        const sessionId = sessionOf(job);
        const jobId = job.id as string;
        options.activity?.started();
        if (sessionId) {
          const jobs = active.get(sessionId) ?? new Map<string, Worker>();
          jobs.set(jobId, worker);
          active.set(sessionId, jobs);
        }
        try {
          return isOrchestrator
            ? await runPhaseJob(deps, memo, job, token as string)
            : await runCallJob(deps, job, token, signal);
        } catch (error) {
          if (
            sessionId &&
            !isControl(error) &&
            !isJobGone(error) &&
            !lostTheJob(signal) &&
            isFinal(job, error)
          ) {
            await recordSessionFailure(
              deps.db,
              sessionId,
              failureOf(name, job, error, job.attemptsMade + 1),
              log,
            );
            if (error instanceof Object) recorded.add(error);
          }
          // BullMQ retries anything but UnrecoverableError: what a retry cannot fix must be one.
          if (error instanceof EngineError && !error.isRetryable) {
            const final = new UnrecoverableError(error.message);
            recorded.add(final);
            throw final;
          }
          throw error;
        } finally {
          const jobs = sessionId ? active.get(sessionId) : undefined;
          jobs?.delete(jobId);
          if (sessionId && jobs?.size === 0) active.delete(sessionId);
          options.activity?.ended();
        }
      },
      {
        concurrency: options.concurrency[name] ?? DEFAULT_CONCURRENCY[name],
        lockDuration: options.lockMs ?? 30_000,
        stalledInterval: options.lockMs ?? 30_000,
        // Running a job again is safe (phases are idempotent, calls are journaled under leases), so a
        // job whose workers keep dying is not failed after its first stall, as BullMQ does by default.
        maxStalledCount: 10,
        // A queue with a limiter can be paused cluster-wide on a 429 (queue.rateLimit needs one).
        ...(!isOrchestrator && { limiter: limit ? bullmqLimiter(limit) : { max: 100_000, duration: 1_000 } }),
        ...(!isOrchestrator && { maxStartedAttempts: options.maxStartedAttempts ?? 200 }),
      },
    );
    worker.on("failed", (job, error) => {
      if (!job) return;
      const final = job.finishedOn !== undefined;
      const data = job.data as { sessionId?: unknown; phase?: unknown } | null;
      const context = {
        sessionId: data?.sessionId,
        phase: data?.phase,
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
      const sessionId = sessionOf(job);
      if (!sessionId || recorded.has(error)) return;
      // Failed without its processor saying why: started or stalled too often, or failed by its child
      // (whose own report carries the reason, so it gets a moment to arrive first).
      void (async () => {
        if (isOrchestrator) await sleep(CASCADE_GRACE_MS, undefined, { ref: false });
        const fallback = failureOf(name, job, error, job.attemptsMade);
        const failure = await failureFromJournal(deps.db, sessionId, fallback).catch(() => fallback);
        await recordSessionFailure(deps.db, sessionId, failure, log);
      })();
    });
    worker.on("lockRenewalFailed", (jobIds) => {
      for (const id of jobIds) worker.cancelJob(id, ABORT_REASONS.lockLost);
      log.warn({ jobIds }, "lock renewal failed; cancelled");
    });
    return worker;
  });

  let listener: NotificationListener | null = null;
  if (options.databaseUrl) {
    listener = await listen(options.databaseUrl, {
      channels: [CANCEL_CHANNEL],
      onNotification: (_, sessionId) => {
        for (const [jobId, worker] of active.get(sessionId) ?? [])
          worker.cancelJob(jobId, ABORT_REASONS.cancelled);
      },
      onError: (error) =>
        deps.log.warn({ error: error.message }, "cancel listener: connection lost; reconnecting"),
    });
  }

  const reconciler =
    options.queues.includes(ORCHESTRATOR_QUEUE) && options.reconciler !== false
      ? new Reconciler(deps, options.reconciler || {})
      : null;
  reconciler?.start();

  return {
    workers,
    reconciler,
    async close(timeoutMs: number) {
      await reconciler?.stop();
      const closing = Promise.all(workers.map((worker) => worker.close()));
      const timedOut = await Promise.race([
        closing.then(() => false),
        new Promise<boolean>((resolve) => setTimeout(resolve, timeoutMs, true).unref()),
      ]);
      if (timedOut) {
        // Calls still in flight are aborted and handed back to the queue without using an attempt.
        for (const worker of workers) worker.cancelAllJobs(ABORT_REASONS.shutdown);
        await Promise.race([closing, new Promise((resolve) => setTimeout(resolve, 5_000).unref())]);
      }
      await listener?.close();
    },
  };
}

function sessionOf(job: Job): string | null {
  const sessionId = (job.data as { sessionId?: unknown } | null)?.sessionId;
  return typeof sessionId === "string" ? sessionId : null;
}

/** BullMQ's own control flow (wait for children, delay, rate limit, hand back), not failures. */
function isControl(error: unknown): boolean {
  return (
    error instanceof WaitingChildrenError ||
    error instanceof DelayedError ||
    error instanceof WaitingError ||
    error instanceof RateLimitError
  );
}

/** The job stopped because it is not this worker's any more (lock lost) or the worker is closing. */
function lostTheJob(signal: AbortSignal | undefined): boolean {
  return signal?.reason === ABORT_REASONS.lockLost || signal?.reason === ABORT_REASONS.shutdown;
}

function failureOf(queue: QueueName, job: Job, error: unknown, attemptsMade: number): Failure {
  const data = job.data as { phase?: unknown; run?: unknown } | null;
  const phase = typeof data?.phase === "string" ? data.phase : null;
  const run = typeof data?.run === "number" ? data.run : 0;
  const message = error instanceof Error ? error.message || error.name : String(error);
  // A SessionFailure's message is already the session's reason; others say where they happened.
  if (error instanceof SessionFailure) {
    return { reason: message, code: failureOfError(error), phase, run };
  }
  const where =
    queue === ORCHESTRATOR_QUEUE ? `phase ${phase}` : `${queue} call ${job.name.replace(/^call /, "")}`;
  // An outage is the infrastructure's failure, whatever step met it: the reason leads with it.
  if (error instanceof InfrastructureError) {
    return { reason: `${message} (during ${where})`, code: error.failure, phase, run };
  }
  const attempts = attemptsMade > 1 ? ` after ${attemptsMade} attempts` : "";
  return { reason: `${where} failed${attempts}: ${message}`, code: failureOfError(error), phase, run };
}
