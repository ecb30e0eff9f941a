import type { FailureCode } from "@foundry/store";
import { DelayedError, type Job, UnrecoverableError } from "bullmq";

/**
 * A final failure whose session must fail with `reason` (stored with `failure`). Thrown by processors;
 * the worker pool records it on the session, then BullMQ fails the job without retrying.
 */
// Not a FoundryError: BullMQ stops retrying only an `instanceof UnrecoverableError`, so it keeps that base.
export class SessionFailure extends UnrecoverableError {
  readonly code = "SESSION_FAILED";
  readonly isRetryable = false;
  readonly failure: FailureCode;

  constructor(reason: string, failure: FailureCode) {
    super(reason);
    this.failure = failure;
  }
}

/**
 * Puts the job back in the delayed set until `timestamp` without using up an attempt (e.g. while
 * another delivery holds its call's lease), and ends this run of it.
 */
export async function deferJob(job: Job, token: string | undefined, timestamp: number): Promise<never> {
  await job.moveToDelayed(Math.max(timestamp, Date.now()), token);
  throw new DelayedError();
}

/** Said to whoever retries a single job (e.g. from Bull Board) of a session that has ended. */
export const RETRY_HINT =
  "A single job cannot resume a session: retry the session (POST /api/sessions/<id>/retry, or foundry retry <id>)";

/**
 * When a job waiting for another delivery's lease looks again: when the lease ends, or within 5 s
 * (the holder usually finishes well before its lease would run out).
 */
export function lookAgainAt(leaseEnd: Date | null): number {
  return Math.min((leaseEnd?.getTime() ?? Date.now()) + 250, Date.now() + 5_000);
}
