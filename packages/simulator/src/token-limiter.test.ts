import { describe, expect, test } from "vitest";
import { TokenWindowLimiter } from "./token-limiter.ts";

function limiterAt(start = 0) {
  const clock = { now: start };
  return { clock, limiter: new TokenWindowLimiter<"a" | "b">(() => clock.now) };
}

describe("TokenWindowLimiter", () => {
  test("admits everything, tracking nothing, when no limit is set", () => {
    const { limiter } = limiterAt();
    expect(limiter.tryReserve("a", 1_000_000)).toEqual({ ok: true, entry: null });
    expect(limiter.status("a")).toBeNull();
  });

  test("keeps the tokens in any window at or below max, saying when a request would fit", () => {
    const { clock, limiter } = limiterAt();
    limiter.set("a", { max: 1000, windowMs: 1000 });
    expect(limiter.tryReserve("a", 600).ok).toBe(true);
    clock.now = 200;
    expect(limiter.tryReserve("a", 300).ok).toBe(true);
    clock.now = 300;
    // 900 used: 200 more would be 1100. Once the 600 at t=0 leaves (t=1000) it fits.
    expect(limiter.tryReserve("a", 200)).toEqual({ ok: false, retryAfterMs: 700, used: 900 });
    // 700 needs both entries gone: the second leaves at t=1200.
    expect(limiter.tryReserve("a", 800)).toEqual({ ok: false, retryAfterMs: 900, used: 900 });
    expect(limiter.status("a")).toEqual({ limit: 1000, remaining: 100, resetMs: 900 });
    clock.now = 1000;
    expect(limiter.tryReserve("a", 200).ok).toBe(true);
  });

  test("settling replaces a reservation with the usage, freeing what was not used", () => {
    const { limiter } = limiterAt();
    limiter.set("a", { max: 1000, windowMs: 1000 });
    const admission = limiter.tryReserve("a", 900);
    expect(limiter.tryReserve("a", 500).ok).toBe(false);
    if (!admission.ok) throw new Error("expected an admission");
    limiter.settle(admission.entry, 400);
    expect(limiter.tryReserve("a", 500).ok).toBe(true);
    expect(limiter.status("a")?.remaining).toBe(100);
  });

  test("a request larger than the whole limit is refused with no retry time", () => {
    const { limiter } = limiterAt();
    limiter.set("a", { max: 1000, windowMs: 1000 });
    expect(limiter.tryReserve("a", 1001)).toEqual({ ok: false, retryAfterMs: undefined, used: 0 });
    expect(limiter.tryReserve("a", 1000).ok).toBe(true);
  });

  test("a refused request reserves nothing, and keys are independent", () => {
    const { clock, limiter } = limiterAt();
    limiter.set("a", { max: 100, windowMs: 1000 });
    limiter.tryReserve("a", 100);
    for (let t = 1; t < 1000; t += 100) {
      clock.now = t;
      const admission = limiter.tryReserve("a", 50);
      expect(admission.ok).toBe(false);
      if (!admission.ok) expect(t + admission.retryAfterMs!).toBe(1000);
    }
    expect(limiter.tryReserve("b", 1_000_000).ok).toBe(true);
    clock.now = 1000;
    expect(limiter.tryReserve("a", 100).ok).toBe(true);
  });
});
