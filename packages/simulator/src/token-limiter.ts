import type { LimitStatus } from "./limiter.ts";
import type { RateLimit } from "./types.ts";

/** Tokens held in a window by one admitted request: first its reservation, then its usage. */
export interface TokenEntry {
  at: number;
  tokens: number;
}

export type TokenAdmission =
  | { ok: true; entry: TokenEntry | null }
  | {
      ok: false;
      /** Undefined when the request alone is larger than the limit: no wait can help. */
      retryAfterMs: number | undefined;
      used: number;
    };

/**
 * Sliding-window token limiter: the tokens of the requests admitted in any `windowMs` stay at or
 * below `max`, per key. A request reserves what it may use (its input plus its output limit, as
 * OpenAI counts a request against its TPM before answering); once answered, `settle` replaces the
 * reservation with the usage reported to the client (0 for a request that got no answer).
 * A refused request reserves nothing, and its `retryAfterMs` is the time until enough of the
 * oldest entries leave the window for it to fit.
 */
export class TokenWindowLimiter<Key extends string> {
  readonly #limits = new Map<Key, RateLimit>();
  readonly #entries = new Map<Key, TokenEntry[]>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  set(key: Key, limit: RateLimit | null): void {
    if (limit === null) {
      this.#limits.delete(key);
      this.#entries.delete(key);
    } else {
      this.#limits.set(key, { max: limit.max, windowMs: limit.windowMs });
    }
  }

  get(key: Key): RateLimit | null {
    return this.#limits.get(key) ?? null;
  }

  entries(): [Key, RateLimit][] {
    return [...this.#limits.entries()];
  }

  /** Reserves `tokens` now, or says when they would fit. Without a limit, admits and tracks nothing. */
  tryReserve(key: Key, tokens: number): TokenAdmission {
    const limit = this.#limits.get(key);
    if (!limit) return { ok: true, entry: null };
    const now = this.#now();
    const entries = this.#window(key, limit, now);
    const used = sum(entries);
    if (tokens > limit.max) return { ok: false, retryAfterMs: undefined, used };
    if (used + tokens <= limit.max) {
      const entry = { at: now, tokens };
      entries.push(entry);
      return { ok: true, entry };
    }
    let freed = 0;
    for (const entry of entries) {
      freed += entry.tokens;
      if (used - freed + tokens <= limit.max) {
        return { ok: false, retryAfterMs: Math.max(1, Math.ceil(entry.at + limit.windowMs - now)), used };
      }
    }
    // Unreachable: with every entry gone, `tokens <= max` fits.
    return { ok: false, retryAfterMs: limit.windowMs, used };
  }

  /** Replaces a reservation with the tokens the request was billed for. */
  settle(entry: TokenEntry | null, tokens: number): void {
    if (entry) entry.tokens = tokens;
  }

  /** `resetMs`: until the window is empty again (OpenAI's `x-ratelimit-reset-tokens`). */
  status(key: Key): LimitStatus | null {
    const limit = this.#limits.get(key);
    if (!limit) return null;
    const now = this.#now();
    const entries = this.#window(key, limit, now);
    const newest = entries.at(-1);
    return {
      limit: limit.max,
      remaining: Math.max(0, limit.max - sum(entries)),
      resetMs: newest ? Math.max(0, Math.ceil(newest.at + limit.windowMs - now)) : 0,
    };
  }

  /** The entries still inside the window, oldest first (pruned in place). */
  #window(key: Key, limit: RateLimit, now: number): TokenEntry[] {
    let entries = this.#entries.get(key);
    if (!entries) {
      entries = [];
      this.#entries.set(key, entries);
    }
    const cutoff = now - limit.windowMs;
    let expired = 0;
    while (expired < entries.length && entries[expired]!.at <= cutoff) expired++;
    if (expired > 0) entries.splice(0, expired);
    return entries;
  }
}

function sum(entries: TokenEntry[]): number {
  let total = 0;
  for (const entry of entries) total += entry.tokens;
  return total;
}
