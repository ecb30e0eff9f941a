import type { ProviderName } from "@foundry/llm";

/**
 * What the engine reports as it works, for metrics and the like. Every method is optional and must
 * not throw or block: it is called on the hot path.
 */
export interface EngineObserver {
  /** A provider request ended (or a call was settled without one). */
  call?(event: CallObservation): void;
  /** A provider's queue was paused for every replica after a 429. */
  rateLimitPause?(event: { provider: ProviderName; pauseMs: number }): void;
  /** A job waited for the cluster-wide limiter before sending. */
  limiterWait?(event: { provider: ProviderName; waitMs: number }): void;
  /** A circuit breaker opened or closed. */
  breaker?(event: { provider: string; model: string; state: "open" | "closed" }): void;
  /** A phase job ran to the end of one step: finished, or started waiting for its calls. */
  phase?(event: {
    phase: string;
    outcome: "succeeded" | "skipped" | "waiting" | "failed";
    durationMs: number;
  }): void;
}

export interface CallObservation {
  provider: ProviderName;
  model: string;
  /**
   * `succeeded`: answered and stored; `late`: answered after its lease passed on (billed, not stored);
   * `failed`: the request failed (`errorCode` says how); `cached`/`reused`: no request was needed.
   */
  outcome: "succeeded" | "late" | "failed" | "cached" | "reused";
  errorCode?: string;
  /** The request's own latency (none when no request was sent). */
  latencyMs?: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
}
