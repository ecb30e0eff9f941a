import type { ProviderError, ProviderName } from "@foundry/llm";
import { callJobIdFor, callJobName, type ModelCallPayload } from "@foundry/queue";
import {
  type BreakerSettings,
  type JournaledCall,
  type LimitRequest,
  recordEvent,
  rerouteCall,
} from "@foundry/store";
import type { Job } from "bullmq";
import { breakerKey, DEFAULT_BREAKER } from "./breaker/breaker.ts";
import type { EngineDeps } from "./deps.ts";
import { type OutageOptions, throughOutage } from "./infrastructure.ts";

// Where a call goes: the first provider of its role's route, unless that provider's circuit breaker
// is open, or the call failed there for good for a reason another provider may not share (the
// provider kept failing, its answers were unusable, its quota is spent). Then it moves to the next
// provider of the route, as a new child job of the same phase in that provider's queue.

export interface Route {
  provider: ProviderName;
  model: string;
}

/** The call's route from its stored request (calls journaled before fallbacks existed: just its own). */
export function routeOf(call: JournaledCall): Route[] {
  const { route } = call.request;
  return route.length > 0 ? route : [{ provider: call.provider as ProviderName, model: call.model }];
}

/** The routes after the call's current provider and model, in order. */
export function fallbacksOf(call: JournaledCall): Route[] {
  const route = routeOf(call);
  const here = route.findIndex((entry) => entry.provider === call.provider && entry.model === call.model);
  return route
    .slice(here + 1)
    .filter((entry) => !(entry.provider === call.provider && entry.model === call.model));
}

export function breakerSettings(deps: EngineDeps): BreakerSettings {
  return { ...DEFAULT_BREAKER, ...deps.breaker };
}

/** Failures that count against a provider's breaker: the provider is down or overloaded. */
export function isProviderSide(error: ProviderError): boolean {
  return error.code === "server_error" || error.code === "timeout" || error.code === "network";
}

/**
 * Failures after which another provider of the route may do better. Configuration errors (a refused
 * key, an unknown model) are not among them: they fail at once, naming the provider.
 */
export function canFallBack(error: ProviderError): boolean {
  return (
    isProviderSide(error) ||
    error.code === "malformed_output" ||
    error.code === "schema_violation" ||
    error.code === "quota_exceeded" ||
    error.code === "rate_limited"
  );
}

/** Records a provider-side failure on the breaker, and an event on the session when it opened. */
export async function noteProviderFailure(
  deps: EngineDeps,
  call: JournaledCall,
  error: ProviderError,
  outage: OutageOptions,
): Promise<void> {
  const key = breakerKey(call.provider, call.model);
  const settings = breakerSettings(deps);
  const transition = await throughOutage(() => deps.breakers.failure(key, error.message, settings), outage);
  if (!transition.opened) return;
  deps.observe?.breaker?.({ provider: call.provider, model: call.model, state: "open" });
  deps.log.warn(
    {
      sessionId: call.sessionId,
      phase: call.phase,
      provider: call.provider,
      model: call.model,
      error: error.message,
    },
    "circuit breaker opened",
  );
  await throughOutage(
    () =>
      recordEvent(deps.db, {
        sessionId: call.sessionId,
        phase: call.phase,
        type: "provider.breaker_opened",
        message: `${key} breaker opened after repeated provider failures (last: ${error.message}); no request goes to it for ${Math.round(settings.cooldownMs / 1000)} s`,
        data: { provider: call.provider, model: call.model, cooldownMs: settings.cooldownMs },
      }),
    outage,
  );
}

/** Records a success on the breaker, and an event when that closed it. */
export async function noteProviderSuccess(deps: EngineDeps, call: JournaledCall, outage: OutageOptions) {
  const closed = await throughOutage(
    () => deps.breakers.success(breakerKey(call.provider, call.model)),
    outage,
  );
  if (!closed) return;
  deps.observe?.breaker?.({ provider: call.provider, model: call.model, state: "closed" });
  await throughOutage(
    () =>
      recordEvent(deps.db, {
        sessionId: call.sessionId,
        phase: call.phase,
        type: "provider.breaker_closed",
        message: `${call.provider}/${call.model} answered again: its breaker is closed`,
        data: { provider: call.provider, model: call.model },
      }),
    outage,
  );
}

export type Admission =
  /**
   * `clean`: the breaker was closed with no failure counted; a success then has nothing to report.
   * `wait`: the ms before the limiter admits the request (0: admitted and recorded, or not asked).
   */
  | { kind: "go"; probe: boolean; clean: boolean; wait: number }
  | { kind: "fallback"; to: Route; why: string }
  /** Every provider of the route is open: look again at `retryAt`. */
  | { kind: "wait"; retryAt: Date; why: string };

/**
 * Whether the call may go to its provider now, or to which fallback, or how long to wait. The
 * provider's breaker and, when it lets the call go, the limiter (`limit`, when the call has one) are
 * asked in one round trip.
 */
export async function admit(
  deps: EngineDeps,
  call: JournaledCall,
  limit: LimitRequest | null,
  outage: OutageOptions,
): Promise<Admission> {
  const settings = breakerSettings(deps);
  const { breaker: here, wait } = await throughOutage(
    () => deps.gate.admit({ key: breakerKey(call.provider, call.model), settings }, limit),
    outage,
  );
  if (here.allowed) return { kind: "go", probe: here.probe, clean: here.clean, wait };
  const why = `${call.provider} unavailable (breaker open since ${here.openedAt.toISOString().slice(11, 19)} UTC${here.lastError ? `; last error: ${here.lastError}` : ""})`;
  let retryAt = here.retryAt;
  for (const next of fallbacksOf(call)) {
    const there = await throughOutage(
      () => deps.breakers.admit(breakerKey(next.provider, next.model), settings),
      outage,
    );
    if (there.allowed) return { kind: "fallback", to: next, why };
    if (there.retryAt < retryAt) retryAt = there.retryAt;
  }
  return { kind: "wait", retryAt, why };
}

/**
 * Moves the call to `to`: the journal row first (fenced by `owner`, the caller's lease if it holds
 * one), then a child job in `to`'s queue under the same parent phase, added before this job ends so
 * the phase keeps waiting for the call. Returns false when the row could not be moved (another
 * delivery holds it).
 */
export async function fallBack(
  deps: EngineDeps,
  job: Job,
  call: JournaledCall,
  owner: string | null,
  to: Route,
  why: string,
  outage: OutageOptions,
): Promise<boolean> {
  const moved = await throughOutage(() => rerouteCall(deps.db, call, owner, to, why), outage);
  if (!moved) return false;
  deps.log.warn(
    { sessionId: call.sessionId, phase: call.phase, callKey: call.callKey, to, why },
    "call falls back",
  );
  const run = (job.data as { run?: number }).run ?? 0;
  const data: ModelCallPayload = {
    sessionId: call.sessionId,
    phase: call.phase,
    idempotencyKey: call.idempotencyKey,
    run,
  };
  const parent = job.parent?.id ? { id: job.parent.id, queue: job.parent.queueKey } : undefined;
  await throughOutage(
    () =>
      deps.queues.provider(to.provider).add(callJobName(call.phase, call.callKey), data, {
        ...deps.queues.jobOptions("modelCall"),
        jobId: callJobIdFor(
          { ...call, provider: to.provider, model: to.model, fallbackFrom: `${call.provider}/${call.model}` },
          run,
        ),
        ...(parent && { parent }),
      }),
    outage,
  );
  return true;
}
