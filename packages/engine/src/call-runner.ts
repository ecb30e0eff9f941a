import { ProviderError, type ProviderName } from "@foundry/llm";
import { isOutputSchemaName, OUTPUT_SCHEMAS } from "@foundry/workflow";
import { type Job, UnrecoverableError, Worker } from "bullmq";
import type { z } from "zod";
import { modelCallPayload } from "./catalog.ts";
import type { EngineDeps } from "./deps.ts";
import { costOf } from "./pricing.ts";
import { recordEvent } from "./store/events.ts";
import {
  completeCall,
  getCall,
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
export async function runCallJob(deps: EngineDeps, job: Job, signal?: AbortSignal): Promise<CallJobResult> {
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
      await pauseQueue(deps, provider, wait);
      throw Worker.RateLimitError();
    }
  }

  const request = call.request as unknown as StoredRequest;
  await startAttempt(deps.db, call, { jobId: job.id, ...deps.worker });
  try {
    const result = await model.generate({
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
    await completeCall(deps.db, call, {
      value: result.value,
      text: result.text,
      usage: result.usage,
      latencyMs: result.latencyMs,
      cost: costOf(deps.prices, provider, call.model, result.usage),
    });
    return { idempotencyKey: key, reused: false };
  } catch (error) {
    if (!(error instanceof ProviderError)) throw error;
    if (error.code === "aborted") {
      // Our own abort: the lock was lost (another worker has the job) or the worker is closing.
      await recordFailedAttempt(deps.db, call, { message: error.message, code: error.code, final: false });
      throw error;
    }
    const usage = error.usage;
    const cost = usage ? costOf(deps.prices, provider, call.model, usage) : undefined;
    if (error.code === "rate_limited") {
      await recordFailedAttempt(deps.db, call, { message: error.message, code: error.code, final: false });
      const wait = error.retryAfterMs ?? 1_000;
      await pauseQueue(deps, provider, wait);
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
    await recordFailedAttempt(deps.db, call, {
      message: error.message,
      code: error.code,
      usage,
      cost,
      final,
    });
    if (!error.isRetryable) throw new UnrecoverableError(error.message);
    throw error;
  }
}

/**
 * Pauses a provider queue for every worker of the cluster. BullMQ's `rateLimit` replaces the
 * current pause, so a shorter pause never cuts a longer one short.
 */
async function pauseQueue(deps: EngineDeps, provider: ProviderName, ms: number): Promise<void> {
  const queue = deps.queues.provider(provider);
  const current = await queue.getRateLimitTtl();
  if (current < ms) await queue.rateLimit(ms);
}
