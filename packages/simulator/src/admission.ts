import type { ParsedCall, SimError } from "./protocol.ts";
import type { SimState } from "./state.ts";
import type { TokenEntry } from "./token-limiter.ts";
import { estimateTokens } from "./tokens.ts";
import type { SimProvider } from "./types.ts";

export type CallAdmission =
  | { ok: true; tokens: TokenEntry | null; at: number }
  | { ok: false; error: SimError };

/**
 * Applies the provider's request limit, then its token limit, counting the request in both only
 * when both admit it. A request reserves its input tokens (counted as its usage will be) plus its
 * output limit; the caller settles the reservation with the usage it reports.
 */
export function admit(state: SimState, provider: SimProvider, call: ParsedCall): CallAdmission {
  const at = Date.now();
  state.stats.reachedLimits(provider, at);

  const requests = state.limiter.check(provider);
  if (!requests.ok) {
    const limit = state.limiter.get(provider)!;
    return {
      ok: false,
      error: {
        status: 429,
        kind: "rate_limited",
        message: `Rate limit reached for ${provider} requests. Please try again in ${Math.ceil(requests.retryAfterMs / 1000)}s.`,
        retryAfterMs: requests.retryAfterMs,
        limit: { dimension: "requests", ...limit, used: requests.used, requested: 1 },
      },
    };
  }

  const need = inputTokensOf(call) + (call.maxOutputTokens ?? 0);
  const tokens = state.tokenLimiter.tryReserve(provider, need);
  if (!tokens.ok) {
    const limit = state.tokenLimiter.get(provider)!;
    const wait = tokens.retryAfterMs;
    return {
      ok: false,
      error: {
        status: 429,
        kind: "rate_limited",
        message:
          wait === undefined
            ? `Request too large for ${provider}: it needs ${need} tokens and the limit is ${limit.max}.`
            : `Rate limit reached for ${provider} tokens. Please try again in ${Math.ceil(wait / 1000)}s.`,
        ...(wait === undefined ? {} : { retryAfterMs: wait }),
        limit: { dimension: "tokens", ...limit, used: tokens.used, requested: need },
      },
    };
  }

  state.limiter.tryAcquire(provider);
  return { ok: true, tokens: tokens.entry, at };
}

/** Input tokens as the answer reports them: the request's texts and its schema. */
export function inputTokensOf(call: ParsedCall): number {
  return estimateTokens(call.promptText + call.schemaText);
}
