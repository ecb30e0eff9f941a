import type { RateLimit } from "./types.ts";

export type Admission = { ok: true } | { ok: false; retryAfterMs: number; used: number };

export interface LimitStatus {
  limit: number;
  remaining: number;
  /** Milliseconds until one more request would be admitted (0 when one would be now). */
  resetMs: number;
}

/**
 * Sliding-window request limiter: at most `max` admitted requests in any `windowMs`, per key.
 *
 * Only admitted requests count. A rejected request is not stored, so a client that waits the
 * `retryAfterMs` it was given finds a free slot (unless others took it first) and always
 * converges: the wait is exactly the time until the oldest admitted request leaves the window.
 */
export class SlidingWindowLimiter<Key extends string> {
  readonly #limits = new Map<Key, RateLimit>();
  readonly #admitted = new Map<Key, number[]>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  set(key: Key, limit: RateLimit | null): void {
    if (limit === null) {
      this.#limits.delete(key);
      this.#admitted.delete(key);
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

  /** Admits and counts a request, or says how long until one would be admitted. */
  tryAcquire(key: Key): Admission {
    const admission = this.check(key);
    if (admission.ok) this.#admitted.get(key)?.push(this.#now());
    return admission;
  }

  /** Whether a request would be admitted now, without counting it. */
  check(key: Key): Admission {
    const limit = this.#limits.get(key);
    if (!limit) return { ok: true };
    const now = this.#now();
    const admitted = this.#window(key, limit, now);
    if (admitted.length < limit.max) return { ok: true };
    return {
      ok: false,
      retryAfterMs: Math.max(1, Math.ceil(admitted[0]! + limit.windowMs - now)),
      used: admitted.length,
    };
  }

  status(key: Key): LimitStatus | null {
    const limit = this.#limits.get(key);
    if (!limit) return null;
    const now = this.#now();
    const admitted = this.#window(key, limit, now);
    const remaining = Math.max(0, limit.max - admitted.length);
    const resetMs = remaining > 0 ? 0 : Math.max(0, Math.ceil(admitted[0]! + limit.windowMs - now));
    return { limit: limit.max, remaining, resetMs };
  }

  /** The admission times still inside the window, oldest first (pruned in place). */
  #window(key: Key, limit: RateLimit, now: number): number[] {
    let admitted = this.#admitted.get(key);
    if (!admitted) {
      admitted = [];
      this.#admitted.set(key, admitted);
    }
    const cutoff = now - limit.windowMs;
    let expired = 0;
    while (expired < admitted.length && admitted[expired]! <= cutoff) expired++;
    if (expired > 0) admitted.splice(0, expired);
    return admitted;
  }
}
