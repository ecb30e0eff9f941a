import { randomUUID } from "node:crypto";
import { ProviderError, type ProviderName } from "@foundry/llm";
import { isOutputSchemaName, OUTPUT_SCHEMAS } from "@foundry/workflow";
import { type Job, UnrecoverableError, WaitingError, Worker } from "bullmq";
import { z } from "zod";
import { modelCallPayload } from "./catalog.ts";
import type { EngineDeps } from "./deps.ts";
import { ABORT_REASONS, DEFAULT_DURABILITY, type DurabilitySettings } from "./durability.ts";
import { EngineError } from "./errors.ts";
import { type OutageOptions, throughOutage } from "./infrastructure.ts";
import { deferJob, RETRY_HINT, SessionFailure } from "./job-control.ts";
import { pauseQueueAtLeast } from "./limits/queue-pause.ts";
import { costOf, hasPrice } from "./pricing.ts";
import { recordEvent } from "./store/events.ts";
import {
  claimCall,
  completeCall,
  endUnclaimedCall,
  getCall,
  type JournaledCall,
  recordFailedAttempt,
  releaseLease,
  renewLease,
} from "./store/journal.ts";

/** What a call job returns: a reference; the answer itself is in the journal. */
export interface CallJobResult {
  idempotencyKey: string;
  reused: boolean;
}

const storedRequest = z.object({
  system: z.string(),
  prompt: z.string(),
  maxOutputTokens: z.number().int().positive().optional(),
  temperature: z.number().optional(),
});

/**
 * Makes one model call (a job of a provider queue), paying for it at most once per answer:
 * - a journaled answer is reused without a request;
 * - the request is sent only under a lease on the journal row: another delivery of the same job that
 *   finds a live lease waits for it instead of sending a second request;
 * - the cluster-wide limiter must admit the request; a provider's 429 pauses the whole queue (capped);
 * - an answer received is stored even when PostgreSQL is briefly away (the write is retried), and an
 *   outage of PostgreSQL or Redis never uses up an attempt or gets blamed on the provider.
 * Retryable provider failures are thrown for BullMQ to retry with backoff; the others end the call
 * (and, through its parent phase, the session).
 */
export async function runCallJob(
  deps: EngineDeps,
  job: Job,
  token?: string,
  signal?: AbortSignal,
): Promise<CallJobResult> {
  const payload = modelCallPayload.safeParse(job.data);
  if (!payload.success) throw new UnrecoverableError(`invalid model-call payload: ${payload.error.message}`);
  const settings: DurabilitySettings = { ...DEFAULT_DURABILITY, ...deps.durability };
  const key = payload.data.idempotencyKey;
  const log = deps.log.child({ sessionId: payload.data.sessionId, callKey: key, jobId: job.id });
  const outage: OutageOptions = {
    timeoutMs: settings.outageTimeoutMs,
    signal,
    onWait: (fault, error, waitedMs) =>
      log.warn({ fault, error: (error as Error).message, waitedMs }, `${fault} unavailable; waiting`),
  };
  // Once an answer is in hand it is never given up early: the write is retried for the whole bound.
  const keepTrying: OutageOptions = { ...outage, signal: undefined };

  const call = await throughOutage(() => getCall(deps.db, key), outage);
  if (!call) throw new UnrecoverableError(`model call ${key} is not journaled`);
  const provider = call.provider as ProviderName;
  const where = `${provider} call ${call.phase}.${call.callKey}`;
  if (call.status === "succeeded") return reuse(deps, call, outage);
  if (call.status === "failed" || call.status === "cancelled") {
    throw new UnrecoverableError(
      `${where} already ${call.status}: ${call.error ?? "no reason recorded"}. ${RETRY_HINT}`,
    );
  }
  const model = deps.models[provider];
  if (!model) {
    const message = `no credentials for ${provider} on this worker (set ${provider.toUpperCase()}_API_KEY)`;
    await throughOutage(() => endUnclaimedCall(deps.db, call, "failed", message, "not_configured"), outage);
    throw new SessionFailure(`${where} failed: ${message}`, "config");
  }
  if (!isOutputSchemaName(call.schemaName)) {
    throw new UnrecoverableError(`model call ${key} names unknown schema ${call.schemaName}`);
  }
  const request = storedRequest.parse(call.request);

  // Admission for the whole cluster, before anything is claimed or sent.
  const limit = deps.limits[provider];
  if (limit) {
    const wait = await throughOutage(() => deps.limiter.acquire(provider, limit), outage);
    if (wait > 0) {
      await throughOutage(
        () => pauseQueueAtLeast(deps.queues.redis, deps.queues.provider(provider), wait),
        outage,
      );
      throw Worker.RateLimitError();
    }
  }

  const owner = `${deps.worker.host}:${deps.worker.pid}:${randomUUID()}`;
  const claim = await throughOutage(
    () =>
      claimCall(deps.db, call, {
        owner,
        jobId: job.id,
        host: deps.worker.host,
        pid: deps.worker.pid,
        leaseMs: settings.leaseMs,
      }),
    outage,
  );
  switch (claim.kind) {
    case "claimed":
      break;
    case "answered":
      return reuse(deps, call, outage);
    case "ended":
      throw new UnrecoverableError(
        `${where} already ${claim.status}: ${claim.error ?? "no reason recorded"}`,
      );
    case "session_ended":
      throw new UnrecoverableError(`session ${call.sessionId} has ended (${claim.status})`);
    case "leased":
      log.info({ until: claim.until }, "another delivery holds this call's lease; waiting for it");
      return deferJob(job, token, lookAgainAt(claim.until));
    default:
      claim satisfies never;
  }

  const lease = keepLease(deps, key, owner, settings.leaseMs, log);
  let result: Awaited<ReturnType<typeof model.generate>>;
  try {
    result = await model.generate({
      model: call.model,
      system: request.system,
      prompt: request.prompt,
      schemaName: call.schemaName,
      schema: OUTPUT_SCHEMAS[call.schemaName] as z.ZodType<unknown>,
      maxOutputTokens: request.maxOutputTokens,
      temperature: request.temperature,
      signal: signal ? AbortSignal.any([signal, lease.signal]) : lease.signal,
      timeoutMs: deps.callTimeoutMs,
      requestId: `${key}#${claim.attempt}`,
    });
  } catch (error) {
    lease.stop();
    if (!(error instanceof ProviderError)) {
      // Not the provider's answer (a bug in an adapter): give the call back, counted, and fail the job.
      await throughOutage(() => releaseLease(deps.db, key, owner), keepTrying);
      throw error;
    }
    const context: FailureContext = {
      deps,
      job,
      token,
      signal,
      call,
      owner,
      settings,
      outage,
      keepTrying,
      where,
    };
    return handleProviderError(context, error, lease.signal.aborted);
  }
  lease.stop();

  const cost = costOf(deps.prices, provider, call.model, result.usage);
  const stored = await throughOutage(
    () =>
      completeCall(deps.db, call, owner, {
        value: result.value,
        text: result.text,
        usage: result.usage,
        latencyMs: result.latencyMs,
        cost,
        priced: hasPrice(deps.prices, provider, call.model),
      }),
    keepTrying,
  );
  if (stored === "late") return settleWithoutLease(deps, job, token, call, outage, where);
  return { idempotencyKey: key, reused: false };
}

async function reuse(deps: EngineDeps, call: JournaledCall, outage: OutageOptions): Promise<CallJobResult> {
  await throughOutage(
    () =>
      recordEvent(deps.db, {
        sessionId: call.sessionId,
        phase: call.phase,
        type: "call.reused",
        message: `${call.callKey}: answer already journaled; no new request`,
        data: { callKey: call.callKey },
      }),
    outage,
  );
  return { idempotencyKey: call.idempotencyKey, reused: true };
}

/**
 * Renews the lease while the request is in flight. Its signal fires when the lease is found to be no
 * longer this worker's (taken over, or the session cancelled), so the request can be abandoned. A
 * renewal that fails because PostgreSQL is away is skipped: the lease then runs out by itself.
 */
function keepLease(
  deps: EngineDeps,
  key: string,
  owner: string,
  leaseMs: number,
  log: EngineDeps["log"],
): { signal: AbortSignal; stop(): void } {
  const controller = new AbortController();
  let busy = false;
  const timer = setInterval(
    () => {
      if (busy) return;
      busy = true;
      renewLease(deps.db, key, owner, leaseMs)
        .then((held) => {
          if (!held) controller.abort("lease lost");
        })
        .catch((error: Error) => log.warn({ error: error.message }, "could not renew the call's lease"))
        .finally(() => {
          busy = false;
        });
    },
    Math.max(50, Math.floor(leaseMs / 3)),
  );
  timer.unref();
  return { signal: controller.signal, stop: () => clearInterval(timer) };
}

interface FailureContext {
  deps: EngineDeps;
  job: Job;
  token: string | undefined;
  signal: AbortSignal | undefined;
  call: JournaledCall;
  owner: string;
  settings: DurabilitySettings;
  outage: OutageOptions;
  keepTrying: OutageOptions;
  where: string;
}

async function handleProviderError(
  ctx: FailureContext,
  error: ProviderError,
  leaseLost: boolean,
): Promise<never> {
  const { deps, job, call, owner, where } = ctx;
  const provider = call.provider as ProviderName;
  if (error.code === "aborted") {
    if (leaseLost) return settleWithoutLease(deps, job, ctx.token, call, ctx.outage, where);
    // Whatever stopped the request, the attempt stays counted and the call goes back to pending.
    await throughOutage(() => releaseLease(deps.db, call.idempotencyKey, owner), ctx.keepTrying);
    if (ctx.signal?.reason === ABORT_REASONS.shutdown && ctx.token) {
      // The worker is closing: hand the job back without using up an attempt.
      await job.moveToWait(ctx.token);
      throw new WaitingError();
    }
    if (ctx.signal?.reason === ABORT_REASONS.cancelled) {
      throw new UnrecoverableError(`session ${call.sessionId} was cancelled`);
    }
    throw error;
  }
  const usage = error.usage;
  const cost = usage ? costOf(deps.prices, provider, call.model, usage) : undefined;
  if (error.code === "rate_limited") return handleRateLimit(ctx, error);

  const final = !error.isRetryable || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
  const recorded = await throughOutage(
    () =>
      recordFailedAttempt(deps.db, call, owner, {
        message: error.message,
        code: error.code,
        usage,
        cost,
        final,
      }),
    ctx.keepTrying,
  );
  if (!recorded.recorded) return settleWithoutLease(deps, job, ctx.token, call, ctx.outage, where);
  if (final) {
    const attempts = job.attemptsMade + 1 > 1 ? ` after ${job.attemptsMade + 1} attempts` : "";
    throw new SessionFailure(`${where} failed${attempts}: ${error.message}`, failureOf(error));
  }
  throw error;
}

/**
 * A 429. The queue pauses for every replica for the provider's `retry-after` (or an exponential wait
 * when it gives none), capped at `maxRateLimitPauseMs`; the job goes back without using an attempt.
 * A longer `retry-after` counts as a failed attempt instead of freezing the queue, and a call that
 * keeps receiving 429s fails after `maxRateLimitHits` of them, naming the provider.
 */
async function handleRateLimit(ctx: FailureContext, error: ProviderError): Promise<never> {
  const { deps, job, call, owner, settings, where } = ctx;
  const provider = call.provider as ProviderName;
  const retryAfter = error.retryAfterMs;
  const tooLong = retryAfter !== undefined && retryAfter > settings.maxRateLimitPauseMs;
  const hits = call.rateLimitHits + 1;
  const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
  const exhausted = hits >= settings.maxRateLimitHits;
  const final = exhausted || (tooLong && lastAttempt);
  const message = tooLong
    ? `${provider} asked to wait ${Math.ceil((retryAfter as number) / 1000)} s (retry-after), longer than MAX_RATE_LIMIT_PAUSE_MS (${Math.ceil(settings.maxRateLimitPauseMs / 1000)} s): counted as a failed attempt; ${error.message}`
    : exhausted
      ? `${provider} answered 429 to ${hits} requests for this call; last: ${error.message}`
      : error.message;
  const recorded = await throughOutage(
    () => recordFailedAttempt(deps.db, call, owner, { message, code: error.code, final, rateLimited: true }),
    ctx.keepTrying,
  );
  if (!recorded.recorded) return settleWithoutLease(deps, job, ctx.token, call, ctx.outage, where);

  const wanted = Math.min(
    retryAfter ?? 1_000 * 2 ** Math.min(recorded.rateLimitHits - 1, 16),
    settings.maxRateLimitPauseMs,
  );
  const inForce = await throughOutage(
    () => pauseQueueAtLeast(deps.queues.redis, deps.queues.provider(provider), wanted),
    ctx.outage,
  );
  // One event per pause set or extended, not one per job that met the same pause.
  if (inForce <= wanted) {
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
      ctx.outage,
    );
  }
  if (final) throw new SessionFailure(`${where} failed: ${message}`, "provider");
  if (tooLong)
    throw new EngineError(message, { code: "RATE_LIMIT_TOO_LONG", isRetryable: true, failure: "provider" });
  throw Worker.RateLimitError();
}

/**
 * This worker no longer holds the call's lease (another delivery claimed it after this one's expired,
 * or the session was cancelled). Whatever it received was billed and recorded; the verdict belongs to
 * the lease holder, so this job waits for it, or ends when the session did.
 */
async function settleWithoutLease(
  deps: EngineDeps,
  job: Job,
  token: string | undefined,
  call: JournaledCall,
  outage: OutageOptions,
  where: string,
): Promise<never> {
  const now = await throughOutage(
    () =>
      deps.db.modelCall.findUnique({
        where: { idempotencyKey: call.idempotencyKey },
        select: { status: true, error: true, leaseExpiresAt: true, session: { select: { status: true } } },
      }),
    outage,
  );
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
  return deferJob(job, token, now.status === "succeeded" ? Date.now() : lookAgainAt(now.leaseExpiresAt));
}

/**
 * When a job waiting for another delivery's lease looks again: when the lease ends, or within 5 s
 * (the holder usually finishes well before its lease would run out).
 */
function lookAgainAt(leaseEnd: Date | null): number {
  return Math.min((leaseEnd?.getTime() ?? Date.now()) + 250, Date.now() + 5_000);
}

function failureOf(error: ProviderError) {
  switch (error.code) {
    case "malformed_output":
    case "schema_violation":
      return "output" as const;
    case "auth":
      return "config" as const;
    case "quota_exceeded":
      return "quota" as const;
    default:
      return "provider" as const;
  }
}
