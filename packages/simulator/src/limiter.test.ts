import { describe, expect, test } from "vitest";
import { SlidingWindowLimiter } from "./limiter.ts";

function limiterAt(start = 0) {
  const clock = { now: start };
  return { clock, limiter: new SlidingWindowLimiter<"a" | "b">(() => clock.now) };
}

describe("SlidingWindowLimiter", () => {
  test("admits everything when no limit is set", () => {
    const { limiter } = limiterAt();
    for (let i = 0; i < 100; i++) expect(limiter.tryAcquire("a").ok).toBe(true);
    expect(limiter.status("a")).toBeNull();
  });

  test("admits at most max in any window and says when the next slot frees", () => {
    const { clock, limiter } = limiterAt();
    limiter.set("a", { max: 2, windowMs: 1000 });
    expect(limiter.tryAcquire("a")).toEqual({ ok: true });
    clock.now = 300;
    expect(limiter.tryAcquire("a")).toEqual({ ok: true });
    clock.now = 400;
    expect(limiter.tryAcquire("a")).toEqual({ ok: false, retryAfterMs: 600, used: 2 });
    expect(limiter.status("a")).toEqual({ limit: 2, remaining: 0, resetMs: 600 });
    clock.now = 1000; // the request admitted at 0 has left the window
    expect(limiter.tryAcquire("a")).toEqual({ ok: true });
    expect(limiter.tryAcquire("a")).toEqual({ ok: false, retryAfterMs: 300, used: 2 });
  });

  test("rejected requests do not count, so waiting retry-after always gets a slot", () => {
    const { clock, limiter } = limiterAt();
    limiter.set("a", { max: 1, windowMs: 1000 });
    limiter.tryAcquire("a");
    for (let t = 1; t < 1000; t += 50) {
      clock.now = t;
      const admission = limiter.tryAcquire("a");
      expect(admission.ok).toBe(false);
      if (!admission.ok) expect(t + admission.retryAfterMs).toBe(1000);
    }
    clock.now = 1000;
    expect(limiter.tryAcquire("a").ok).toBe(true);
  });

  test("check says what tryAcquire would, without counting", () => {
    const { limiter } = limiterAt();
    limiter.set("a", { max: 1, windowMs: 1000 });
    expect(limiter.check("a")).toEqual({ ok: true });
    expect(limiter.check("a")).toEqual({ ok: true });
    expect(limiter.tryAcquire("a")).toEqual({ ok: true });
    expect(limiter.check("a")).toEqual({ ok: false, retryAfterMs: 1000, used: 1 });
  });

  test("keys are independent and a limit can be removed", () => {
    const { limiter } = limiterAt();
    limiter.set("a", { max: 1, windowMs: 1000 });
    limiter.tryAcquire("a");
    expect(limiter.tryAcquire("a").ok).toBe(false);
    expect(limiter.tryAcquire("b").ok).toBe(true);
    limiter.set("a", null);
    expect(limiter.tryAcquire("a").ok).toBe(true);
  });
});
