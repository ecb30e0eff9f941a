/** How the engine rides out faults. Every value has a default; see the README's Configuration. */
export interface DurabilitySettings {
  /**
   * How long a claimed call's lease lasts without renewal. It is renewed every third of this while the
   * request is in flight; a second delivery of the job waits at most this long after a worker dies.
   * @default 30000
   */
  leaseMs: number;
  /**
   * How long a step may wait for PostgreSQL or the job queue to come back before the session fails
   * with a reason naming it (`INFRA_OUTAGE_TIMEOUT_MS`). @default 600000
   */
  outageTimeoutMs: number;
  /**
   * The longest pause a provider's 429 may impose on its queue (`MAX_RATE_LIMIT_PAUSE_MS`); a longer
   * `retry-after` counts as a failed attempt instead of freezing the queue. @default 60000
   */
  maxRateLimitPauseMs: number;
  /** 429s one call may receive before it fails for good (`MAX_RATE_LIMIT_HITS`). @default 10 */
  maxRateLimitHits: number;
}

export const DEFAULT_DURABILITY: DurabilitySettings = {
  leaseMs: 30_000,
  outageTimeoutMs: 600_000,
  maxRateLimitPauseMs: 60_000,
  maxRateLimitHits: 10,
};

/** Reasons the engine gives an AbortSignal, so that the code that sees the abort knows why. */
export const ABORT_REASONS = {
  /** The worker is closing: hand the job back without using an attempt. */
  shutdown: "worker shutting down",
  /** The job's lock was lost: another worker will run it. */
  lockLost: "lock lost: another worker will run this job",
  /** A person cancelled the session. */
  cancelled: "session cancelled",
} as const;
