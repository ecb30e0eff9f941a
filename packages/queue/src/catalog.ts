import type { JobsOptions } from "bullmq";
import { z } from "zod";
import type { QueueBackendKind } from "./backend.ts";

// The job catalog: every job kind with its payload schema and its retry policy. Producers add jobs
// with jobOptions (the retry policy and the queue store's retention; QueueSet.jobOptions) and workers
// validate what they receive against the payload schemas.

const sessionId = z.uuid();
const phaseId = z.string().regex(/^[a-z][a-z0-9_]*$/);
/** The session's run (flow generation) the job belongs to; a job of an older run does nothing. */
const run = z.int().min(0).default(0);

export const phasePayload = z.strictObject({ sessionId, phase: phaseId, run });
export type PhasePayload = z.input<typeof phasePayload>;

export const modelCallPayload = z.strictObject({
  sessionId,
  phase: phaseId,
  /** The journal row to fulfil; everything else (prompt, schema, model) is read from it. */
  idempotencyKey: z.string().min(1).max(200),
  run,
});
export type ModelCallPayload = z.input<typeof modelCallPayload>;

/** Exponential backoff with jitter: 1 s, 2 s, 4 s, … each ±50%. */
const backoff = { type: "exponential", delay: 1_000, jitter: 0.5 } as const;

export const JOB_CATALOG = {
  phase: {
    payload: phasePayload,
    options: { attempts: 3, backoff, failParentOnFailure: true } satisfies JobsOptions,
  },
  modelCall: {
    payload: modelCallPayload,
    options: { attempts: 5, backoff, failParentOnFailure: true } satisfies JobsOptions,
  },
} as const;

export type JobKind = keyof typeof JOB_CATALOG;

/** How long a completed job stays in its queue (Bull Board shows it): a day. */
export const COMPLETED_JOB_AGE_S = 24 * 3600;
/** How long a failed job stays: a week. */
const FAILED_JOB_AGE_S = 7 * 24 * 3600;
/** At most this many completed (and as many failed) jobs per queue, whatever their age. */
export const MAX_FINISHED_JOBS = 50_000;

/**
 * What BullMQ keeps of a finished job, by queue store: a day (completed) or a week (failed), and at
 * most MAX_FINISHED_JOBS of each per queue, so that the store stays bounded under any load.
 * - Redis: both in the job's options; the cap costs little there (a range of a sorted set from the
 *   cap on).
 * - PostgreSQL: the age in the job's options, the cap by QueueSet.capFinishedJobs (the reconciler's
 *   housekeeping, every 10 minutes, for jobs finished more than two hours ago). BullMQ's PostgreSQL
 *   backend enforces a count in the options on every completion with `DELETE … WHERE id NOT IN
 *   (SELECT … ORDER BY finished_at_ms DESC LIMIT count)`, which reads every kept job of the queue:
 *   a completion took 1.0 ms with no job kept and 6.2 ms with 9,000, growing all day long towards
 *   the cap, where age alone stayed at 0.6–0.7 ms (`npm run bench:retention`, bench/README.md). The
 *   age's delete is a range of an index.
 */
function jobRetention(backend: QueueBackendKind): Pick<JobsOptions, "removeOnComplete" | "removeOnFail"> {
  if (backend === "postgres") {
    return { removeOnComplete: { age: COMPLETED_JOB_AGE_S }, removeOnFail: { age: FAILED_JOB_AGE_S } };
  }
  return {
    removeOnComplete: { age: COMPLETED_JOB_AGE_S, count: MAX_FINISHED_JOBS },
    removeOnFail: { age: FAILED_JOB_AGE_S, count: MAX_FINISHED_JOBS },
  };
}

/** The options a job of `kind` is added with on `backend`: its retry policy and its retention. */
export function jobOptions(kind: JobKind, backend: QueueBackendKind): JobsOptions {
  return { ...JOB_CATALOG[kind].options, ...jobRetention(backend) };
}

/**
 * Job ids are deterministic so that re-adding a job is a no-op and a person can find it in Bull
 * Board: `<session>.<run>.<phase>` and `<session>.<run>.<phase>.<call>`. The run number changes when a
 * person retries the session or the reconciler re-queues it, so a new run never collides with the
 * finished or failed jobs of an earlier one. BullMQ forbids `:` in ids.
 */
export function phaseJobId(sessionId: string, run: number, phase: string): string {
  return `${sessionId}.${run}.${phase}`;
}

export function callJobId(sessionId: string, run: number, phase: string, callKey: string): string {
  return `${sessionId}.${run}.${phase}.${callKey}`;
}

/** Job names shown in Bull Board: `phase requirements`, `call planning.backend`. */
export function phaseJobName(phase: string): string {
  return `phase ${phase}`;
}

export function callJobName(phase: string, callKey: string): string {
  return `call ${phase}.${callKey}`;
}

/** The idempotency key of a model call: one per (session, phase, call), stable across retries. */
export function idempotencyKey(sessionId: string, phase: string, callKey: string): string {
  return `${sessionId}.${phase}.${callKey}`;
}

/**
 * The job id of a call's job in its current provider's queue: `callJobId`, or, once the call fell back
 * to another provider, that id with `.via-<provider>-<model>` (a new job in another queue).
 */
export interface CallJobIdColumns {
  sessionId: string;
  phase: string;
  callKey: string;
  provider: string;
  model: string;
  fallbackFrom: string | null;
}

/** The job id of a call in run `run` (see CallJobIdColumns). */
export function callJobIdFor(call: CallJobIdColumns, run: number): string {
  const base = callJobId(call.sessionId, run, call.phase, call.callKey);
  return call.fallbackFrom
    ? `${base}.via-${call.provider}-${call.model.replace(/[^A-Za-z0-9._-]/g, "-")}`
    : base;
}
