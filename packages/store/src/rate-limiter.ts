// The contract of the cluster-wide rate limiter, implemented in Redis by the engine
// (SlidingWindowLimiter) and in PostgreSQL here (PostgresSlidingWindowLimiter).

/** At most `max` requests in any `windowMs`. */
export interface RateLimit {
  max: number;
  windowMs: number;
}

/** A provider's cluster-wide limits: requests and tokens in any window (either may be absent). */
export interface ProviderLimits {
  requests?: RateLimit;
  /** `max` is tokens: the request's input plus its output limit are reserved before it is sent. */
  tokens?: RateLimit;
}

/** One request asking to be admitted: its id (kept to settle its tokens) and the tokens it may use. */
export interface Reservation {
  id: string;
  tokens: number;
}

/**
 * Cluster-wide admission of provider requests under a request limit and a token limit, in the
 * store the queues use: Redis (SlidingWindowLimiter) or PostgreSQL (PostgresSlidingWindowLimiter).
 */
export interface RateLimiter {
  /**
   * Admits one request under `name` (recording it in both limits) or returns the milliseconds to
   * wait. A reservation larger than the token limit is capped at it: it then waits for an empty window.
   */
  acquire(name: string, limits: ProviderLimits, reservation?: Reservation): Promise<number>;
  /**
   * Replaces a reservation with the tokens the provider reported using. Returns false when the
   * reservation had already left its window (nothing to correct).
   */
  settle(name: string, id: string, tokensUsed: number): Promise<boolean>;
}

/** How much wider than configured the windows are kept, so edge admissions arrive outside them despite jitter. */
export const WINDOW_MARGIN_MS = 250;
