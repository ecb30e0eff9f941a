// The contract of a call's admission: its breaker's and then the limiter's, in one round trip to the
// store the queues use. Implemented in Redis by the engine (RedisCallGate) and in PostgreSQL here
// (PostgresCallGate), each from the same pieces as its BreakerStore and RateLimiter.
import type { BreakerAdmission, BreakerSettings } from "./breaker-store.ts";
import type { ProviderLimits, Reservation } from "./rate-limiter.ts";

/** What a call asks the limiter for: a request slot and tokens under `name` (its provider). */
export interface LimitRequest {
  name: string;
  limits: ProviderLimits;
  reservation: Reservation;
}

/** The breaker's answer and, when it admitted the call and a limit was asked for, the limiter's. */
export interface GateAdmission {
  breaker: BreakerAdmission;
  /** Milliseconds to wait before the limiter admits the request; 0 when admitted (and recorded) or not asked. */
  wait: number;
}

/**
 * A call's way past its provider's breaker and the cluster-wide limiter at once. The limiter is
 * asked only when the breaker lets the call go, as if `BreakerStore.admit` were followed by
 * `RateLimiter.acquire`, but in one round trip instead of two: one Redis script or one SQL statement.
 */
export interface CallGate {
  admit(
    breaker: { key: string; settings: BreakerSettings },
    limit: LimitRequest | null,
  ): Promise<GateAdmission>;
}
