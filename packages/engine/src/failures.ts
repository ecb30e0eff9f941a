import type { PrismaClient } from "@foundry/db";
import { FoundryError } from "@foundry/errors";
import { ProviderError } from "@foundry/llm";
import { EngineError, type FailureCode, failSession, lastCallError } from "@foundry/store";
import { type Job, UnrecoverableError } from "bullmq";
import { throughOutage } from "./infrastructure.ts";
import { SessionFailure } from "./job-control.ts";
import type { Logger } from "./logger.ts";

// What a session's failure says: a reason a person can act on, and a stable code. Built from the
// error a processor threw, or, for failures BullMQ decided without running a processor (a job started
// too often, stalled too often, failed by its child), from the journal.

export interface Failure {
  reason: string;
  code: FailureCode;
  phase?: string | null;
  /** The run the failing job belonged to: a failure of an earlier run changes nothing. */
  run?: number;
}

/** The failure code of a call's journaled error code (a ProviderErrorCode, or the engine's own). */
export function failureOfCallError(errorCode: string | null): FailureCode {
  switch (errorCode) {
    case "malformed_output":
    case "schema_violation":
      return "output";
    case "auth":
    case "not_configured":
      return "config";
    case "quota_exceeded":
      return "quota";
    case "cancelled":
      return "cancelled";
    case null:
      return "internal";
    default:
      return "provider";
  }
}

/** The failure code an error thrown by a processor stands for. */
export function failureOfError(error: unknown): FailureCode {
  if (error instanceof SessionFailure || error instanceof EngineError) return error.failure;
  if (error instanceof ProviderError) return failureOfCallError(error.code);
  return error instanceof FoundryError && !error.isRetryable ? "output" : "internal";
}

/** Whether an error ends the job for good (no retry left, or nothing a retry can fix). */
export function isFinal(job: Job, error: unknown): boolean {
  if (error instanceof UnrecoverableError) return true;
  if (error instanceof FoundryError && !error.isRetryable) return true;
  return job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
}

/**
 * The failure of a session whose job BullMQ failed without a processor saying why: the last error the
 * journal holds for the session's calls (what a provider said), else `fallback`.
 */
export async function failureFromJournal(
  db: PrismaClient,
  sessionId: string,
  fallback: Failure,
): Promise<Failure> {
  const call = await lastCallError(db, sessionId);
  if (!call?.error || call.errorCode === "session_failed") return fallback;
  const requests = call.attempts === 1 ? "1 request" : `${call.attempts} requests`;
  return {
    reason: `${call.provider} call ${call.phase}.${call.callKey} failed after ${requests}: ${call.error}`,
    code: failureOfCallError(call.errorCode),
    phase: call.phase,
    run: fallback.run,
  };
}

/**
 * Records a session's failure, riding out a database outage for up to `timeoutMs` (the reconciler
 * records it later if the database stays away longer). Never throws.
 */
export async function recordSessionFailure(
  db: PrismaClient,
  sessionId: string,
  failure: Failure,
  log: Logger,
  timeoutMs = 120_000,
): Promise<void> {
  try {
    await throughOutage(() => failSession(db, sessionId, failure), { timeoutMs });
  } catch (error) {
    log.error(
      { sessionId, phase: failure.phase, reason: failure.reason, error: (error as Error).message },
      "could not record the session's failure; the reconciler will",
    );
  }
}
