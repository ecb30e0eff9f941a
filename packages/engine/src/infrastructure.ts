import { setTimeout as sleep } from "node:timers/promises";
import { isDatabaseUnavailable } from "@foundry/db";
import { isSocketFailure } from "@foundry/errors";
import { type Infrastructure, InfrastructureError } from "@foundry/store";
import { ErrorCode } from "bullmq";

// Infrastructure faults are not provider faults. A PostgreSQL or Redis outage never uses up a job's
// attempts and is never blamed on a model provider: the step that met it waits (with backoff) and
// runs again, up to a bound after which the session fails with a reason naming the infrastructure.

/** ioredis (and Redis) errors that mean "not reachable right now". */
const QUEUE_REPLY_PREFIXES = ["LOADING", "READONLY", "MASTERDOWN", "CLUSTERDOWN", "TRYAGAIN", "BUSY"];

/** Whether `error` says the job queue's store (Redis) is unreachable or not ready. */
function isQueueUnavailable(error: unknown): boolean {
  for (let current = error, depth = 0; current instanceof Error && depth < 6; depth++) {
    if (current.name === "MaxRetriesPerRequestError") return true;
    // ioredis's CONNECTION_CLOSED_ERROR_MSG: a command on a connection that is closed for good.
    if (current.message === "Connection is closed.") return true;
    if (isSocketFailure(current)) return true;
    const message = current.message;
    if (current.name === "ReplyError" && QUEUE_REPLY_PREFIXES.some((prefix) => message.startsWith(prefix))) {
      return true;
    }
    current = current.cause;
  }
  return false;
}

/**
 * Whether `error` says the job this process was running no longer exists in the queue or is no longer
 * this process's (its key vanished after a data loss, or its lock passed to another worker). Nothing
 * this process does with the job can succeed; the reconciler or the new holder carries on.
 */
export function isJobGone(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return (
    code === ErrorCode.JobNotExist ||
    code === ErrorCode.JobLockNotExist ||
    code === ErrorCode.ParentJobNotExist ||
    code === ErrorCode.JobLockMismatch
  );
}

/** Which infrastructure `error` is a fault of, or null when it is something else. */
export function infrastructureFault(error: unknown): Infrastructure | null {
  if (error instanceof InfrastructureError) return error.infrastructure;
  if (isDatabaseUnavailable(error)) return "database";
  if (isQueueUnavailable(error)) return "queue";
  return null;
}

export interface OutageOptions {
  /** How long an outage may last before giving up. */
  timeoutMs: number;
  /** First wait; doubles up to `maxDelayMs`. @default 250 */
  initialDelayMs?: number;
  /** @default 5000 */
  maxDelayMs?: number;
  /** Told about each wait. */
  onWait?: (fault: Infrastructure, error: unknown, waitedMs: number) => void;
  /** Stops waiting early (the job was cancelled or the worker is closing); the fault is rethrown. */
  signal?: AbortSignal;
}

/**
 * Runs `step`, and while it fails with an infrastructure fault, waits and runs it again, for at most
 * `timeoutMs` in all; then throws an InfrastructureError naming what was unreachable and for how long.
 * Any other error is thrown at once. `step` must be safe to repeat (idempotent, or not yet started).
 */
export async function throughOutage<T>(step: () => Promise<T>, options: OutageOptions): Promise<T> {
  const started = Date.now();
  let delay = options.initialDelayMs ?? 250;
  for (;;) {
    try {
      return await step();
    } catch (error) {
      const fault = infrastructureFault(error);
      if (!fault || error instanceof InfrastructureError) throw error;
      const waited = Date.now() - started;
      if (waited >= options.timeoutMs || options.signal?.aborted) {
        throw new InfrastructureError(
          fault,
          `${fault === "database" ? "PostgreSQL" : "the job queue (Redis)"} unreachable for ${Math.round(waited / 1000)} s: ${(error as Error).message.trim().split("\n").at(-1)}`,
          error,
        );
      }
      options.onWait?.(fault, error, waited);
      await sleep(Math.min(delay, Math.max(0, options.timeoutMs - waited)), undefined, {
        signal: options.signal,
      }).catch(() => {});
      delay = Math.min(delay * 2, options.maxDelayMs ?? 5_000);
    }
  }
}
