import { FoundryError } from "@foundry/errors";
import type { ProviderError, ProviderName, RepairInput } from "@foundry/llm";
import {
  EngineError,
  type JournaledCall,
  readCallState,
  recordEvent,
  recordFailedAttempt,
  releaseLease,
} from "@foundry/store";
import { type Job, UnrecoverableError, WaitingError, Worker } from "bullmq";
import { canFallBack, fallBack, fallbacksOf, isProviderSide, noteProviderFailure } from "./call-routing.ts";
import type { EngineDeps } from "./deps.ts";
import { ABORT_REASONS, type DurabilitySettings } from "./durability.ts";
import type { Failure } from "./failures.ts";
import { type OutageOptions, throughOutage } from "./infrastructure.ts";
import { deferJob, lookAgainAt, RETRY_HINT, SessionFailure } from "./job-control.ts";
import { costOf } from "./pricing.ts";

// What a failed model request leads to: another attempt (BullMQ's backoff), a pause of the provider's
// queue (429), the next provider of the route (fallback), or the end of the session.

/** One run of a call job, as the failure handling needs it. */
export interface CallRun {
  deps: EngineDeps;
  job: Job;
  token: string | undefined;
  signal: AbortSignal | undefined;
  call: JournaledCall;
  /** The lease this run holds, once it claimed the call. */
  owner: string | null;
  settings: DurabilitySettings;
  outage: OutageOptions;
  keepTrying: OutageOptions;
  /** `<provider> call <phase>.<call>`, for messages. */
  where: string;
  log: EngineDeps["log"];
}

export async function handleProviderError(
  run: CallRun,
  error: ProviderError,
  outcome: { leaseLost: boolean; nextRepair: RepairInput | null | undefined },
): Promise<never> {
  const { deps, job, call, where } = run;
  const owner = run.owner as string;
  const provider = call.provider as ProviderName;
  if (error.code === "aborted") {
    if (outcome.leaseLost) return settleWithoutLease(run);
    // Whatever stopped the request, the attempt stays counted and the call goes back to pending.
    await throughOutage(() => releaseLease(deps.db, call.idempotencyKey, owner), run.keepTrying);
    if (run.signal?.reason === ABORT_REASONS.shutdown && run.token) {
      // The worker is closing: hand the job back without using up an attempt.
      await job.moveToWait(run.token);
      throw new WaitingError();
    }
    if (run.signal?.reason === ABORT_REASONS.cancelled) {
      throw new UnrecoverableError(`session ${call.sessionId} was cancelled`);
    }
    throw error;
  }
  if (isProviderSide(error)) await noteProviderFailure(deps, call, error, run.outage);
  if (error.code === "rate_limited") return handleRateLimit(run, error);

  const usage = error.usage;
  const cost = usage ? costOf(deps.prices, provider, call.model, usage) : undefined;
  const lastAttempt = !error.isRetryable || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
  const next = lastAttempt && canFallBack(error) ? fallbacksOf(call)[0] : undefined;
  const recorded = await throughOutage(
    () =>
      recordFailedAttempt(deps.db, call, owner, {
        message: error.message,
        code: error.code,
        usage,
        cost,
        // With a fallback to go to, the call is not finished: it moves on.
        final: lastAttempt && !next,
        ...(outcome.nextRepair !== undefined && { repair: outcome.nextRepair as never }),
      }),
    run.keepTrying,
  );
  if (!recorded.recorded) return settleWithoutLease(run);
  if (next) {
    const attempts = job.attemptsMade + 1 > 1 ? ` after ${job.attemptsMade + 1} attempts` : "";
    const why = `${provider}/${call.model} failed${attempts} (${error.message})`;
    if (
      await fallBack(
        deps,
        job,
        { ...call, status: "pending", leaseOwner: null },
        null,
        next,
        why,
        run.keepTrying,
      )
    ) {
      throw new MovedToFallback(why);
    }
    return settleWithoutLease(run);
  }
  if (lastAttempt) {
    const attempts = job.attemptsMade + 1 > 1 ? ` after ${job.attemptsMade + 1} attempts` : "";
    throw new SessionFailure(`${where} failed${attempts}: ${error.message}`, failureOf(error));
  }
  throw error;
}

/**
 * The call moved to a fallback provider: this job's part is over. It ends as a completed job (the
 * worker pool turns this into a return value), so the phase waits for the new job instead.
 */
export class MovedToFallback extends FoundryError {
  override readonly name = "MovedToFallback";

  constructor(message: string) {
    // Not retryable: this job's part is over, whatever happens to the call.
    super(message, { code: "MOVED_TO_FALLBACK", isRetryable: false });
  }
}

/**
 * A 429. The queue pauses for every replica for the provider's `retry-after` (or an exponential wait
 * when it gives none), capped at `maxRateLimitPauseMs`; the job goes back without using an attempt.
 * A longer `retry-after` counts as a failed attempt instead of freezing the queue, and a call that
 * keeps receiving 429s stops after `maxRateLimitHits` of them: it moves to the next provider of its
 * route, or fails, naming the provider.
 */
async function handleRateLimit(run: CallRun, error: ProviderError): Promise<never> {
  const { deps, job, call, settings, where } = run;
  const owner = run.owner as string;
  const provider = call.provider as ProviderName;
  const retryAfter = error.retryAfterMs;
  const tooLong = retryAfter !== undefined && retryAfter > settings.maxRateLimitPauseMs;
  const hits = call.rateLimitHits + 1;
  const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
  const exhausted = hits >= settings.maxRateLimitHits;
  const done = exhausted || (tooLong && lastAttempt);
  const next = done ? fallbacksOf(call)[0] : undefined;
  const message = tooLong
    ? `${provider} asked to wait ${Math.ceil((retryAfter as number) / 1000)} s (retry-after), longer than MAX_RATE_LIMIT_PAUSE_MS (${Math.ceil(settings.maxRateLimitPauseMs / 1000)} s): counted as a failed attempt; ${error.message}`
    : exhausted
      ? `${provider} answered 429 to ${hits} requests for this call; last: ${error.message}`
      : error.message;
  const recorded = await throughOutage(
    () =>
      recordFailedAttempt(deps.db, call, owner, {
        message,
        code: error.code,
        final: done && !next,
        rateLimited: true,
      }),
    run.keepTrying,
  );
  if (!recorded.recorded) return settleWithoutLease(run);

  const wanted = Math.min(
    retryAfter ?? 1_000 * 2 ** Math.min(recorded.rateLimitHits - 1, 16),
    settings.maxRateLimitPauseMs,
  );
  const inForce = await throughOutage(() => deps.queues.pauseProvider(provider, wanted), run.outage);
  // One event per pause set or extended, not one per job that met the same pause.
  if (inForce <= wanted) {
    deps.observe?.rateLimitPause?.({ provider, pauseMs: inForce });
    await throughOutage(
      () =>
        recordEvent(deps.db, {
          sessionId: call.sessionId,
          phase: call.phase,
          type: "provider.rate_limited",
          message: `rate-limited by ${provider}, resuming in ${Math.ceil(inForce / 1000)} s${tooLong ? ` (it asked for ${Math.ceil((retryAfter as number) / 1000)} s; capped)` : ""}`,
          data: {
            provider,
            pauseMs: inForce,
            retryAfterMs: retryAfter ?? null,
            hits: recorded.rateLimitHits,
          },
        }),
      run.outage,
    );
  }
  if (next) {
    if (
      await fallBack(
        deps,
        job,
        { ...call, status: "pending", leaseOwner: null },
        null,
        next,
        message,
        run.keepTrying,
      )
    ) {
      throw new MovedToFallback(message);
    }
    return settleWithoutLease(run);
  }
  if (done) throw new SessionFailure(`${where} failed: ${message}`, "provider");
  if (tooLong)
    throw new EngineError(message, { code: "RATE_LIMIT_TOO_LONG", isRetryable: true, failure: "provider" });
  throw Worker.RateLimitError();
}

/**
 * This run does not hold the call's lease (another delivery claimed it after this one's expired, or
 * the session was cancelled). Whatever it received was billed and recorded; the verdict belongs to the
 * lease holder, so this job waits for it, or ends when the session did.
 */
export async function settleWithoutLease(run: CallRun): Promise<never> {
  const { deps, job, call, where } = run;
  const now = await throughOutage(() => readCallState(deps.db, call), run.outage);
  if (!now || (now.session.status !== "queued" && now.session.status !== "running")) {
    throw new UnrecoverableError(
      `session ${call.sessionId} has ended (${now?.session.status ?? "deleted"}). ${RETRY_HINT}`,
    );
  }
  if (now.status === "failed" || now.status === "cancelled") {
    throw new UnrecoverableError(
      `${where} already ${now.status}: ${now.error ?? "no reason recorded"}. ${RETRY_HINT}`,
    );
  }
  // Succeeded (the next run reuses it), or still with the other holder: look again soon.
  return deferJob(job, run.token, now.status === "succeeded" ? Date.now() : lookAgainAt(now.leaseExpiresAt));
}

function failureOf(error: ProviderError): Failure["code"] {
  switch (error.code) {
    case "malformed_output":
    case "schema_violation":
      return "output";
    case "auth":
      return "config";
    case "quota_exceeded":
      return "quota";
    default:
      return "provider";
  }
}
