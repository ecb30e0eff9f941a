import { describe, expect, test } from "vitest";
import { busiestCount, busiestSum, StatsBook } from "./stats.ts";

describe("busiest windows", () => {
  test("busiestCount counts times less than windowMs apart, as the sliding-window limiter does", () => {
    expect(busiestCount([], 1000)).toBe(0);
    expect(busiestCount([0, 999], 1000)).toBe(2);
    expect(busiestCount([0, 1000], 1000)).toBe(1);
    expect(busiestCount([0, 100, 200, 1250, 1260, 1270, 1280], 1000)).toBe(4);
    expect(busiestCount([0, 100, 200, 1150, 1160, 1170, 1180], 1000)).toBe(5);
    expect(busiestCount([5, 5, 5], 1)).toBe(3);
  });

  test("busiestSum adds tokens in any window, whatever order the entries come in", () => {
    const entries = [
      { at: 1100, tokens: 50 },
      { at: 0, tokens: 500 },
      { at: 900, tokens: 400 },
      { at: 1950, tokens: 10 },
    ];
    expect(busiestSum(entries, 1000)).toBe(900);
    expect(busiestSum(entries, 2000)).toBe(960);
    expect(busiestSum([], 1000)).toBe(0);
  });
});

describe("StatsBook", () => {
  test("counts requests, statuses, in-flight requests and answered tokens per provider", () => {
    const stats = new StatsBook();
    for (let i = 0; i < 3; i++) stats.received("openai");
    stats.reachedLimits("openai", 0);
    stats.reachedLimits("openai", 10);
    stats.finished("openai", 429);
    stats.finished("openai", 200);
    stats.answered("openai", 10, { inputTokens: 7, outputTokens: 5 });

    const snapshot = stats.snapshot(() => ({ requestsMs: 1000, tokensMs: 1000 }));

    expect(snapshot.providers).toEqual({
      openai: {
        requests: 3,
        inFlight: 1,
        byStatus: { "200": 1, "429": 1 },
        tokens: { input: 7, output: 5 },
        busiestWindow: { windowMs: 1000, requests: 2 },
        busiestTokenWindow: { windowMs: 1000, tokens: 12 },
      },
    });
    expect(stats.snapshot(() => ({})).providers.openai).toMatchObject({
      busiestWindow: null,
      busiestTokenWindow: null,
    });
    stats.reset();
    expect(stats.snapshot(() => ({})).providers).toEqual({});
  });
});
