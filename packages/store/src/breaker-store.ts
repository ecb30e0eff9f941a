// The contract of the circuit breakers' shared state (the state machine is described in the
// engine's breaker/breaker.ts), implemented in Redis by the engine (RedisBreakerStore) and in
// PostgreSQL here (PostgresBreakerStore).

export interface BreakerSettings {
  /** Provider-side failures in a row that open the breaker. @default 5 */
  failureThreshold: number;
  /** How long it stays open before one probe may go. @default 30000 */
  cooldownMs: number;
}

export type BreakerAdmission =
  /**
   * Go ahead; `probe` when this request decides whether the breaker closes. `clean`: closed with no
   * failure counted, so this request's success has nothing to reset and need not be reported (one
   * round trip less per call). A failure counted by another request in the meantime is then reset by
   * the next success of a request admitted after it.
   */
  | { allowed: true; probe: boolean; clean: boolean }
  /** Open: nothing may go before `retryAt`. */
  | { allowed: false; openedAt: Date; retryAt: Date; lastError: string | null };

/** What a failure did to the breaker. */
export interface BreakerTransition {
  state: "closed" | "open" | "half_open";
  /** The failure opened it (from closed, or a failed probe from half-open). */
  opened: boolean;
}

/** The shared state's operations, each atomic for the whole cluster. */
export interface BreakerStore {
  /** Whether a request may go to `key` now; takes the probe slot when the cool-down is over. */
  admit(key: string, settings: BreakerSettings): Promise<BreakerAdmission>;
  /** A request succeeded: closed, count reset. Returns true when that closed an open or half-open breaker. */
  success(key: string): Promise<boolean>;
  /** A provider-side failure. */
  failure(key: string, error: string, settings: BreakerSettings): Promise<BreakerTransition>;
}
