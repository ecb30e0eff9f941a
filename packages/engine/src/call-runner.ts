import { randomUUID } from "node:crypto";
import { Prisma } from "@foundry/db";
import {
  estimateTokens,
  ProviderError,
  type ProviderName,
  type RepairInput,
  toRepairInput,
} from "@foundry/llm";
import { modelCallPayload } from "@foundry/queue";
import {
  cacheKey,
  claimCall,
  completeCall,
  completeFromCache,
  DEFAULT_CACHE,
  endUnclaimedCall,
  failSession,
  findCachedResponse,
  getCallForRun,
  type JournaledCall,
  recordEvent,
  releaseLease,
  renewLease,
  saveCachedResponse,
} from "@foundry/store";
import { isOutputSchemaName, OUTPUT_SCHEMAS } from "@foundry/workflow";
import { type Job, UnrecoverableError, Worker } from "bullmq";
import type { z } from "zod";
import { type CallRun, handleProviderError, MovedToFallback, settleWithoutLease } from "./call-failures.ts";
import { admit, fallBack, noteProviderSuccess } from "./call-routing.ts";
import type { EngineDeps } from "./deps.ts";
import { DEFAULT_DURABILITY, type DurabilitySettings } from "./durability.ts";
import { type OutageOptions, throughOutage } from "./infrastructure.ts";
import { deferJob, lookAgainAt, RETRY_HINT, SessionFailure } from "./job-control.ts";
import type { CallObservation } from "./observer.ts";
import { costOf, hasPrice } from "./pricing.ts";

/** What a call job returns: a reference; the answer itself is in the journal. */
export interface CallJobResult {
  idempotencyKey: string;
  /** `reused`: answered before; `cached`: from the response cache; `moved`: handed to a fallback provider. */
  outcome: "answered" | "reused" | "cached" | "moved";
}

/**
 * Makes one model call (a job of a provider queue), paying for it at most once per answer:
 * - a journaled answer is reused without a request, and so, for sessions that opt in, is an identical
 *   answer from the response cache;
 * - a provider whose circuit breaker is open is skipped for the next provider of the role's route;
 * - the request is sent only under a lease on the journal row, within the session's budget, once the
 *   cluster-wide limiter admits it; a provider's 429 pauses the whole queue (capped);
 * - an answer received is stored even when PostgreSQL is briefly away (the write is retried), and an
 *   outage of PostgreSQL or Redis never uses up an attempt or gets blamed on the provider.
 * Retryable failures are thrown for BullMQ to retry with backoff (after bad output, the next attempt
 * sends the model its answer and the error: one repair turn); a call that fails for good moves to the
 * next provider of its route when there is one, and otherwise ends its phase and the session.
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
  const log = deps.log.child({
    sessionId: payload.data.sessionId,
    phase: payload.data.phase,
    callKey: key,
    jobId: job.id,
  });
  const outage: OutageOptions = {
    timeoutMs: settings.outageTimeoutMs,
    signal,
    onWait: (fault, error, waitedMs) =>
      log.warn({ fault, error: (error as Error).message, waitedMs }, `${fault} unavailable; waiting`),
  };
  // Once an answer is in hand it is never given up early: the write is retried for the whole bound.
  const keepTrying: OutageOptions = { ...outage, signal: undefined };

  const call = await throughOutage(() => getCallForRun(deps.db, key), outage);
  if (!call) throw new UnrecoverableError(`model call ${key} is not journaled`);
  const provider = call.provider as ProviderName;
  const where = `${provider} call ${call.phase}.${call.callKey}`;
  if (call.status === "succeeded") return reuse(deps, call, outage);
  if (call.status === "failed" || call.status === "cancelled") {
    throw new UnrecoverableError(
      `${where} already ${call.status}: ${call.error ?? "no reason recorded"}. ${RETRY_HINT}`,
    );
  }
  if (call.session.status !== "queued" && call.session.status !== "running") {
    throw new UnrecoverableError(
      `session ${call.sessionId} has ended (${call.session.status}). ${RETRY_HINT}`,
    );
  }
  if (!isOutputSchemaName(call.schemaName)) {
    throw new UnrecoverableError(`model call ${key} names unknown schema ${call.schemaName}`);
  }
  const request = call.request;
  const run: CallRun = {
    deps,
    job,
    token,
    signal,
    call,
    owner: null,
    settings,
    outage,
    keepTrying,
    where,
    log,
  };

  // An identical answer already paid for (sessions that opt in): no request, no cost.
  const cache = call.session.cache
    ? cacheKey({
        tenant: deps.tenant ?? "default",
        provider,
        model: call.model,
        schemaName: call.schemaName,
        ...request,
      })
    : null;
  if (cache) {
    const entry = await throughOutage(() => findCachedResponse(deps.db, cache), outage);
    if (entry && (await throughOutage(() => completeFromCache(deps.db, call, entry), outage))) {
      observeCall(deps, call, { outcome: "cached", inputTokens: 0, outputTokens: 0, costUsd: 0 });
      return { idempotencyKey: key, outcome: "cached" };
    }
  }

  const model = deps.models[provider];
  const repair: RepairInput | undefined = call.repair ?? undefined;
  const schema = OUTPUT_SCHEMAS[call.schemaName] as z.ZodType<unknown>;
  // Admission for the whole cluster, before anything is claimed or sent: a request slot and the
  // tokens the request may use (its input and its whole output limit), settled with the usage later.
  // Asked with the breaker, and only when this worker can send the request.
  const estimate = estimateTokens({ ...request, schemaName: call.schemaName, schema, repair });
  const limits = { requests: deps.limits[provider], tokens: deps.tokenLimits?.[provider] };
  const reservation = { id: randomUUID(), tokens: estimate.input + estimate.maxOutput };
  const limit = model && (limits.requests || limits.tokens) ? { name: provider, limits, reservation } : null;

  // The provider's breaker: open means the next provider of the route, or a wait.
  const admission = await admit(deps, call, limit, outage);
  switch (admission.kind) {
    case "go":
      break;
    case "fallback":
      if (await fallBack(deps, job, call, null, admission.to, admission.why, outage)) {
        return { idempotencyKey: key, outcome: "moved" };
      }
      return settleWithoutLease(run);
    case "wait":
      log.info({ retryAt: admission.retryAt }, `${admission.why}; no fallback available, waiting`);
      return deferJob(job, token, admission.retryAt.getTime() + 100);
    default:
      admission satisfies never;
  }

  if (!model) {
    const message = `no credentials for ${provider} on this worker (set ${provider.toUpperCase()}_API_KEY)`;
    await throughOutage(() => endUnclaimedCall(deps.db, call, "failed", message, "not_configured"), outage);
    throw new SessionFailure(`${where} failed: ${message}`, "config");
  }
  if (admission.wait > 0) {
    deps.observe?.limiterWait?.({ provider, waitMs: admission.wait });
    await throughOutage(() => deps.queues.pauseProvider(provider, admission.wait), outage);
    throw Worker.RateLimitError();
  }
  /** Replaces the token reservation with what the provider reported (best effort: it expires anyway). */
  const settleTokens = (usage: { inputTokens: number; outputTokens: number } | undefined) => {
    if (!limits.tokens || !usage) return;
    deps.limiter
      .settle(provider, reservation.id, usage.inputTokens + usage.outputTokens)
      .catch((error: Error) => log.warn({ error: error.message }, "could not settle the token reservation"));
  };

  const owner = `${deps.worker.host}:${deps.worker.pid}:${randomUUID()}`;
  run.owner = owner;
  const worstUsd = hasPrice(deps.prices, provider, call.model)
    ? costOf(deps.prices, provider, call.model, {
        inputTokens: estimate.input,
        outputTokens: estimate.maxOutput,
      })
    : new Prisma.Decimal(0);
  const claim = await throughOutage(
    () =>
      claimCall(deps.db, call, {
        owner,
        jobId: job.id,
        host: deps.worker.host,
        pid: deps.worker.pid,
        leaseMs: settings.leaseMs,
        worstUsd:
          call.session.budgetUsd !== null || deps.maxSpendPerHourUsd !== undefined ? worstUsd : undefined,
        maxSpendPerHourUsd: deps.maxSpendPerHourUsd,
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
        `${where} already ${claim.status}: ${claim.error ?? "no reason recorded"}. ${RETRY_HINT}`,
      );
    case "session_ended":
      throw new UnrecoverableError(`session ${call.sessionId} has ended (${claim.status}). ${RETRY_HINT}`);
    case "leased":
      log.info({ until: claim.until }, "another delivery holds this call's lease; waiting for it");
      return deferJob(job, token, lookAgainAt(claim.until));
    case "over_budget": {
      const reason = `budget reached: $${claim.spentUsd.toFixed(4)} spent${claim.heldUsd.isZero() ? "" : ` and $${claim.heldUsd.toFixed(4)} held by calls in flight`}, budget $${claim.budgetUsd.toFixed(4)}; ${call.role} ${call.phase}.${call.callKey} (${provider}/${call.model}) could cost up to $${worstUsd.toFixed(4)} and was not sent`;
      await throughOutage(
        () =>
          failSession(deps.db, call.sessionId, {
            reason,
            code: "budget",
            status: "budget_exceeded",
            phase: call.phase,
          }),
        keepTrying,
      );
      throw new UnrecoverableError(reason);
    }
    case "spend_guard": {
      log.warn(
        { spentUsd: claim.spentUsd.toString(), limitUsd: claim.limitUsd },
        "hourly spend limit reached; waiting",
      );
      await throughOutage(
        () =>
          recordEvent(deps.db, {
            sessionId: call.sessionId,
            phase: call.phase,
            type: "spend.guard",
            message: `the cluster spent $${claim.spentUsd.toFixed(2)} in the last hour (MAX_SPEND_PER_HOUR_USD $${claim.limitUsd}); ${call.callKey} waits`,
            data: { callKey: call.callKey, spentUsd: claim.spentUsd.toString(), limitUsd: claim.limitUsd },
          }),
        outage,
      );
      return deferJob(job, token, Date.now() + 60_000);
    }
    default:
      claim satisfies never;
  }

  const lease = keepLease(deps, key, owner, settings.leaseMs, log);
  let result: Awaited<ReturnType<typeof model.generate>>;
  const sentAt = performance.now();
  log.debug({ provider, model: call.model, attempt: claim.attempt }, "sending the request");
  try {
    result = await model.generate({
      model: call.model,
      system: request.system,
      prompt: request.prompt,
      schemaName: call.schemaName,
      schema,
      maxOutputTokens: request.maxOutputTokens,
      temperature: request.temperature,
      signal: signal ? AbortSignal.any([signal, lease.signal]) : lease.signal,
      timeoutMs: deps.callTimeoutMs,
      requestId: `${key}#${claim.attempt}`,
      repair,
    });
  } catch (error) {
    lease.stop();
    if (error instanceof ProviderError) settleTokens(error.usage);
    if (error instanceof ProviderError && error.code !== "aborted") {
      log.warn(
        { provider, model: call.model, code: error.code, status: error.status, error: error.message },
        "the provider request failed",
      );
      observeCall(deps, call, {
        outcome: "failed",
        errorCode: error.code,
        latencyMs: performance.now() - sentAt,
        inputTokens: error.usage?.inputTokens ?? 0,
        outputTokens: error.usage?.outputTokens ?? 0,
        costUsd: error.usage ? Number(costOf(deps.prices, provider, call.model, error.usage)) : 0,
      });
    }
    if (!(error instanceof ProviderError)) {
      // Not the provider's answer (a bug in an adapter): give the call back, counted, and fail the job.
      await throughOutage(() => releaseLease(deps.db, key, owner), keepTrying);
      throw error;
    }
    // After unusable output the next attempt sends the model its answer and the error (one repair
    // turn); after a repair turn that failed too, it starts from scratch.
    const badOutput = error.code === "malformed_output" || error.code === "schema_violation";
    const nextRepair = !badOutput
      ? undefined
      : repair
        ? null
        : toRepairInput(error.text ?? "", error.message);
    try {
      return await handleProviderError(run, error, { leaseLost: lease.signal.aborted, nextRepair });
    } catch (thrown) {
      if (thrown instanceof MovedToFallback) return { idempotencyKey: key, outcome: "moved" };
      throw thrown;
    }
  }
  lease.stop();
  settleTokens(result.usage);

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
  log.info(
    {
      provider,
      model: call.model,
      latencyMs: result.latencyMs,
      inputTokens: result.usage.inputTokens,
      outputTokens: result.usage.outputTokens,
      costUsd: Number(cost),
      stored,
    },
    "the provider answered",
  );
  observeCall(deps, call, {
    outcome: stored === "stored" ? "succeeded" : "late",
    latencyMs: result.latencyMs,
    inputTokens: result.usage.inputTokens,
    outputTokens: result.usage.outputTokens,
    costUsd: Number(cost),
  });
  if (stored === "late") return settleWithoutLease(run);
  // A breaker that was closed and clean at admission has nothing to reset: no round trip.
  if (!admission.clean) await noteProviderSuccess(deps, call, outage);
  if (cache) {
    const settingsCache = { ...DEFAULT_CACHE, ...deps.cache };
    await throughOutage(
      () =>
        saveCachedResponse(deps.db, settingsCache, cache, {
          provider,
          model: call.model,
          schemaName: call.schemaName,
          response: result.value,
          responseText: result.text,
          inputTokens: result.usage.inputTokens,
          outputTokens: result.usage.outputTokens,
        }),
      outage,
    ).catch((error: Error) =>
      log.warn({ error: error.message }, "could not save the answer in the response cache"),
    );
  }
  return { idempotencyKey: key, outcome: "answered" };
}

async function reuse(deps: EngineDeps, call: JournaledCall, outage: OutageOptions): Promise<CallJobResult> {
  observeCall(deps, call, { outcome: "reused", inputTokens: 0, outputTokens: 0, costUsd: 0 });
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
  return { idempotencyKey: call.idempotencyKey, outcome: "reused" };
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

function observeCall(
  deps: EngineDeps,
  call: JournaledCall,
  observation: Omit<CallObservation, "provider" | "model">,
): void {
  deps.observe?.call?.({ provider: call.provider as ProviderName, model: call.model, ...observation });
}
