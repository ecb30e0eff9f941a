import { ProviderError, type ProviderName } from "@foundry/llm";
import { isOutputSchemaName, OUTPUT_SCHEMAS } from "@foundry/workflow";
import { type Job, UnrecoverableError, WaitingError, Worker } from "bullmq";
import type { z } from "zod";
import { modelCallPayload } from "./catalog.ts";
import type { EngineDeps } from "./deps.ts";
import { pauseQueueAtLeast } from "./limits/queue-pause.ts";
import { costOf, hasPrice } from "./pricing.ts";
import { recordEvent } from "./store/events.ts";
import {
  completeCall,
  getCall,
  type JournaledCall,
  recordFailedAttempt,
  type StoredRequest,
  startAttempt,
} from "./store/journal.ts";
import { sessionHasEnded } from "./store/sessions.ts";

/** What a call job returns: a reference; the answer itself is in the journal. */
export interface CallJobResult {
  idempotencyKey: string;
  reused: boolean;
}

/**
 * Makes one model call (a job of a provider queue), at most once per success: a journaled answer
 * is reused without a request. Before the request, the cluster-wide limiter must admit it; a
 * provider's 429 pauses the whole queue for its retry-after. Retryable failures are thrown for
 * BullMQ to retry with backoff; the others end the call (and, through its parent, the session).
 */
export async function runCallJob(
  deps: EngineDeps,
  job: Job,
  token?: string,
  signal?: AbortSignal,
): Promise<CallJobResult> {
  const payload = modelCallPayload.safeParse(job.data);
  if (!payload.success) throw new UnrecoverableError(`invalid model-call payload: ${payload.error.message}`);
  const key = payload.data.idempotencyKey;
  const call = await getCall(deps.db, key);
  if (!call) throw new UnrecoverableError(`model call ${key} is not journaled`);
  if (call.status === "succeeded") {
    await recordEvent(deps.db, {
      sessionId: call.sessionId,
      phase: call.phase,
      type: "call.reused",
      message: `${call.callKey}: answer already journaled; no new request`,
      data: { callKey: call.callKey },
    });
    return { idempotencyKey: key, reused: true };
  }
  const session = await deps.db.session.findUnique({
    where: { id: call.sessionId },
    select: { status: true },
  });
  if (!session || sessionHasEnded(session)) {
    throw new UnrecoverableError(`session ${call.sessionId} has ended (${session?.status ?? "deleted"})`);
  }
  const provider = call.provider as ProviderName;
  const model = deps.models[provider];
  if (!model) {
    const message = `no credentials for ${provider} on this worker (set ${provider.toUpperCase()}_API_KEY)`;
    await recordFailedAttempt(deps.db, call, { message, code: "not_configured", final: true });
    throw new UnrecoverableError(message);
  }
  if (!isOutputSchemaName(call.schemaName)) {
    throw new UnrecoverableError(`model call ${key} names unknown schema ${call.schemaName}`);
  }

  const limit = deps.limits[provider];
  if (limit) {
    const wait = await deps.limiter.acquire(provider, limit);
    if (wait > 0) {
      await pauseQueueAtLeast(deps.queues.redis, deps.queues.provider(provider), wait);
      throw Worker.RateLimitError();
    }
  }

  const request = call.request as unknown as StoredRequest;
  if (!(await startAttempt(deps.db, call, { jobId: job.id, ...deps.worker }))) {
    // Answered meanwhile by another run of this job (a stalled copy): nothing to pay for.
    return { idempotencyKey: key, reused: true };
  }
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
      signal,
      timeoutMs: deps.callTimeoutMs,
    });
  } catch (error) {
    if (!(error instanceof ProviderError)) throw error;
    return handleProviderError(deps, job, token, signal, call, error);
  }
  const cost = costOf(deps.prices, provider, call.model, result.usage);
  try {
    await completeCall(deps.db, call, {
      value: result.value,
      text: result.text,
      usage: result.usage,
      latencyMs: result.latencyMs,
      cost,
      priced: hasPrice(deps.prices, provider, call.model),
    });
  } catch (error) {
    // The answer was paid for but could not be stored: at least count what it cost (best effort;
    // if Postgres is down this fails too), then let the queue retry.
    await recordFailedAttempt(deps.db, call, {
      message: `the answer could not be stored: ${(error as Error).message}`,
      code: "journal_failed",
      usage: result.usage,
      cost,
      final: false,
    }).catch(() => {});
    throw error;
  }
  return { idempotencyKey: key, reused: false };
}

/** Said by the worker pool when it aborts calls in flight to shut down (see workers.ts). */
export const SHUTDOWN_REASON = "worker shutting down";

async function handleProviderError(
  deps: EngineDeps,
  job: Job,
  token: string | undefined,
  signal: AbortSignal | undefined,
  call: JournaledCall,
  error: ProviderError,
): Promise<never> {
  const provider = call.provider as ProviderName;
  if (error.code === "aborted") {
    if (signal?.reason === SHUTDOWN_REASON && token) {
      // The worker is closing: hand the job back without using up an attempt.
      await deps.db.modelCall.updateMany({
        where: { idempotencyKey: call.idempotencyKey, status: "running" },
        data: { status: "pending" },
      });
      await job.moveToWait(token);
      throw new WaitingError();
    }
    // The lock was lost: another worker has this job and owns the journal row now.
    throw error;
  }
  const usage = error.usage;
  const cost = usage ? costOf(deps.prices, provider, call.model, usage) : undefined;
  if (error.code === "rate_limited") {
    await recordFailedAttempt(deps.db, call, { message: error.message, code: error.code, final: false });
    const wait = await pauseQueueAtLeast(
      deps.queues.redis,
      deps.queues.provider(provider),
      error.retryAfterMs ?? 1_000,
    );
    await recordEvent(deps.db, {
      sessionId: call.sessionId,
      phase: call.phase,
      type: "provider.rate_limited",
      message: `rate-limited by ${provider}, resuming in ${Math.ceil(wait / 1000)} s`,
      data: { provider, retryAfterMs: wait },
    });
    throw Worker.RateLimitError();
  }
  const final = !error.isRetryable || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
  await recordFailedAttempt(deps.db, call, { message: error.message, code: error.code, usage, cost, final });
  if (!error.isRetryable) throw new UnrecoverableError(error.message);
  throw error;
}
