import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type Stack, startStack } from "./support/stack.ts";
import { requestsFor } from "./support/wait.ts";
import { withoutFallbacks, workflowVariant } from "./support/workflows.ts";

// A provider's 429s pause its queue for every replica, for the retry-after it gives but never longer
// than MAX_RATE_LIMIT_PAUSE_MS, and a call that keeps getting 429s fails after a bounded number of
// requests with a reason naming the provider (never "job started more than allowable limit"). These
// run a workflow without fallback providers; what fallbacks do is in providers.test.ts.
describe("429s", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({
      durability: { maxRateLimitPauseMs: 1_000, maxRateLimitHits: 3 },
      // No fallback provider: what happens to the call itself (fallbacks: providers.test.ts).
      workflowsDir: await workflowVariant(withoutFallbacks),
    });
  });
  afterAll(() => stack?.close());
  afterEach(() => stack.sim.clearFaults());

  it("caps a long retry-after: the queue pauses for the cap and the call counts a failed attempt", async () => {
    stack.sim.injectFault({
      provider: "openai",
      schemaName: "requirements",
      kind: "rate_limit",
      retryAfterSeconds: 3600,
    });
    const id = await stack.submit("Build a todo list app");
    const session = await stack.waitForSession(id, 60_000);
    expect(session.status).toBe("succeeded");
    const paused = await stack.db.prisma.sessionEvent.findMany({
      where: { sessionId: id, type: "provider.rate_limited" },
    });
    expect(paused).toHaveLength(1);
    expect(paused[0]?.message).toBe("rate-limited by openai, resuming in 1 s (it asked for 3600 s; capped)");
    expect(paused[0]?.data).toMatchObject({ pauseMs: 1_000, retryAfterMs: 3_600_000 });
    const call = session.calls.find(
      (candidate) => candidate.idempotencyKey === `${id}.requirements.requirements`,
    );
    expect(call).toMatchObject({ status: "succeeded", attempts: 2 });
  });

  it("fails a call that keeps getting 429s after MAX_RATE_LIMIT_HITS requests, naming the provider", async () => {
    stack.sim.injectFault({
      provider: "openai",
      schemaName: "requirements",
      kind: "rate_limit",
      retryAfterSeconds: null,
      times: null,
    });
    const id = await stack.submit("Build a todo list app");
    const session = await stack.waitForSession(id, 60_000);
    expect(session).toMatchObject({ status: "failed", errorCode: "provider" });
    expect(session.error).toMatch(
      /^openai call requirements\.requirements failed: openai answered 429 to 3 requests for this call; last: openai answered HTTP 429/,
    );
    const key = `${id}.requirements.requirements`;
    expect(requestsFor(stack, key)).toHaveLength(3);
    const row = await stack.db.prisma.modelCall.findUniqueOrThrow({ where: { idempotencyKey: key } });
    expect(row).toMatchObject({ status: "failed", attempts: 3, rateLimitHits: 3, errorCode: "rate_limited" });
    const events = await stack.db.prisma.sessionEvent.count({ where: { sessionId: id } });
    // A handful of events, not hundreds: one per pause set, plus the session's own.
    expect(events).toBeLessThan(15);
  });
});

describe("a quota or billing error", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ workflowsDir: await workflowVariant(withoutFallbacks) });
  });
  afterAll(() => stack?.close());

  it.each([
    ["openai", "requirements"],
    ["anthropic", "backend_plan"],
  ] as const)(
    "from %s fails the session at once, naming the provider and the cause",
    async (provider, schemaName) => {
      stack.sim.injectFault({ provider, schemaName, kind: "quota", times: null });
      const id = await stack.submit("Build a todo list app");
      const session = await stack.waitForSession(id, 60_000);
      expect(session).toMatchObject({ status: "failed", errorCode: "quota" });
      expect(session.error).toMatch(
        new RegExp(`^${provider} call .* failed: ${provider} .*(quota|credit)`, "i"),
      );
      // One request: no retry can lift a quota, and no queue pause stands in for one.
      const calls = stack.sim
        .requests({ provider, schemaName })
        .filter((request) => request.headers["x-foundry-request-id"]?.startsWith(id));
      expect(calls).toHaveLength(1);
      stack.sim.clearFaults();
    },
  );
});

describe("a call job that BullMQ stops for starting too often", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({
      workflowsDir: await workflowVariant(withoutFallbacks),
      maxStartedAttempts: 3,
      durability: { maxRateLimitPauseMs: 1_000, maxRateLimitHits: 1_000 },
    });
  });
  afterAll(() => stack?.close());

  it("fails the session with the last provider error from the journal, and leaves no row pending", async () => {
    stack.sim.injectFault({
      provider: "openai",
      schemaName: "requirements",
      kind: "rate_limit",
      retryAfterSeconds: 0.1,
      times: null,
    });
    const id = await stack.submit("Build a todo list app");
    const session = await stack.waitForSession(id, 60_000);
    expect(session).toMatchObject({ status: "failed", errorCode: "provider" });
    expect(session.error).toMatch(
      /^openai call requirements\.requirements failed after \d+ requests: openai answered HTTP 429/,
    );
    expect(session.error).not.toMatch(/allowable limit/);
    const rows = await stack.db.prisma.modelCall.findMany({ where: { sessionId: id } });
    expect(rows.map((row) => row.status)).toEqual(["failed"]);
    expect(session.phases[0]).toMatchObject({ id: "requirements", status: "failed" });
  });
});

// Tokens per minute and calls in flight, cluster-wide, against a simulator that enforces the same
// token limit: every request reserves its input and its whole output limit before it is sent, so the
// provider never answers 429, and the busiest window stays under the limit.
describe("tokens per window and calls in flight", () => {
  const tokens = { max: 20_000, windowMs: 1_000 };
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({
      simulator: { tpm: { anthropic: tokens }, latencyMs: { gemini: 200 } },
      tokenLimits: { anthropic: tokens },
      maxInFlight: { gemini: 1 },
      workflowsDir: await workflowVariant(withoutFallbacks),
    });
  });
  afterAll(() => stack?.close());

  it("keeps a provider's tokens under its limit in any window, with no 429, and one gemini call at a time", async () => {
    const ids = await Promise.all([1, 2, 3].map(() => stack.submit("Build a todo list app")));
    for (const id of ids) expect((await stack.waitForSession(id, 90_000)).status).toBe("succeeded");

    const anthropic = stack.sim.requests({ provider: "anthropic" });
    expect(anthropic.length).toBeGreaterThanOrEqual(6);
    expect(anthropic.filter((request) => request.status === 429)).toEqual([]);
    const busiest = stack.sim.stats().providers.anthropic?.busiestTokenWindow;
    expect(busiest?.tokens).toBeGreaterThan(0);
    expect(busiest?.tokens).toBeLessThanOrEqual(tokens.max);
    // The limit bound: the requests could not all go at once.
    const first = Math.min(...anthropic.map((request) => request.receivedAt));
    const last = Math.max(...anthropic.map((request) => request.receivedAt));
    expect(last - first).toBeGreaterThan(tokens.windowMs);

    const gemini = stack.sim.requests({ provider: "gemini" });
    expect(gemini.length).toBeGreaterThanOrEqual(6);
    expect(mostAtOnce(gemini)).toBe(1);
  });
});

/** The most requests in flight at the simulator at any moment. */
function mostAtOnce(requests: { receivedAt: number; respondedAt: number | null }[]): number {
  const edges = requests.flatMap((request) => [
    { at: request.receivedAt, step: 1 },
    { at: request.respondedAt ?? Number.POSITIVE_INFINITY, step: -1 },
  ]);
  edges.sort((a, b) => a.at - b.at || a.step - b.step);
  let now = 0;
  let most = 0;
  for (const edge of edges) {
    now += edge.step;
    most = Math.max(most, now);
  }
  return most;
}
