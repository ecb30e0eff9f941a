// A circuit breaker per provider and model whose state lives in the store every worker shares, so
// that what one replica learns protects all of them:
// - closed: requests go; provider-side failures in a row are counted;
// - open after `failureThreshold` of them: no request goes until `cooldownMs` has passed;
// - half-open after the cool-down: exactly one request (the probe) goes; its success closes the
//   breaker, its failure opens it again for another cool-down. A probe whose worker died is replaced
//   after a cool-down.
// Only provider-side failures count (5xx, overload, timeouts, connection failures): a 429 is the
// limiter's business, bad output the model's, a refused key the operator's.
import type { BreakerSettings } from "@foundry/store";

export const DEFAULT_BREAKER: BreakerSettings = { failureThreshold: 5, cooldownMs: 30_000 };

/** `<provider>/<model>`: a breaker per model, since one model may be down while another answers. */
export function breakerKey(provider: string, model: string): string {
  return `${provider}/${model}`;
}
