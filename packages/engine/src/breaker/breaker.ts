// A circuit breaker per provider and model whose state lives in the store every worker shares, so
// that what one replica learns protects all of them:
// - closed: requests go; provider-side failures in a row are counted;
// - open after `failureThreshold` of them: no request goes until `cooldownMs` has passed;
// - half-open after the cool-down: exactly one request (the probe) goes; its success closes the
//   breaker, its failure opens it again for another cool-down. A probe whose worker died is replaced
//   after a cool-down.
// Only provider-side failures count (5xx, overload, timeouts, connection failures): a 429 is the
// limiter's business, bad output the model's, a refused key the operator's.

export interface BreakerSettings {
  /** Provider-side failures in a row that open the breaker. @default 5 */
  failureThreshold: number;
  /** How long it stays open before one probe may go. @default 30000 */
  cooldownMs: number;
}

export const DEFAULT_BREAKER: BreakerSettings = { failureThreshold: 5, cooldownMs: 30_000 };

export type BreakerAdmission =
  /** Go ahead; `probe` when this request decides whether the breaker closes. */
  | { allowed: true; probe: boolean }
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

/** `<provider>/<model>`: a breaker per model, since one model may be down while another answers. */
export function breakerKey(provider: string, model: string): string {
  return `${provider}/${model}`;
}
