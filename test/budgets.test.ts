import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, startStack } from "./support/stack.ts";
import { until } from "./support/wait.ts";

// Budgets and the response cache, through the REST API with real workers and the simulator.
describe("budgets", () => {
  let stack: Stack;
  beforeAll(async () => {
    // The plans' providers answer after 300 ms, so that both plans are in flight at once: with
    // instant answers on a busy machine, one plan could be answered before the other was claimed.
    stack = await startStack({ simulator: { latencyMs: { anthropic: 300, gemini: 300 } } });
  });
  afterAll(() => stack?.close());

  it("ends a session whose next call could cross its budget: no request is sent, and the API says why", async () => {
    // The requirements call alone could cost up to ~$0.08 (8192 output tokens at $10/1M): refused.
    const id = await stack.submit("Build a todo list app", { budgetUsd: 0.01 });
    const session = await stack.waitForSession(id);
    expect(session).toMatchObject({ status: "budget_exceeded", errorCode: "budget", budgetUsd: 0.01 });
    expect(session.error).toMatch(
      /^budget reached: \$0\.0000 spent, budget \$0\.0100; manager requirements\.requirements \(openai\/gpt-6-sol\) could cost up to \$0\.0\d+ and was not sent$/,
    );
    expect(
      stack.sim.requests().filter((r) => r.headers["x-foundry-request-id"]?.startsWith(id)),
    ).toHaveLength(0);
    expect(session.totals.costUsd).toBe(0);
  });

  it("stops mid-phase when the calls in flight and the next one could cross it, then resumes with a larger budget", async () => {
    // Enough for the requirements (worst ~$0.08, actual ~$0.005), not for both plans held at once.
    const id = await stack.submit("Build a todo list app", { budgetUsd: 0.1 });
    const stopped = await stack.waitForSession(id);
    expect(stopped).toMatchObject({ status: "budget_exceeded", errorCode: "budget" });
    expect(stopped.error).toMatch(/held by calls in flight|planning/);
    expect(stopped.totals.costUsd).toBeLessThanOrEqual(0.1);
    expect(stopped.phases[0]).toMatchObject({ id: "requirements", status: "succeeded" });

    const retry = await stack.request(`/api/sessions/${id}/retry`, {
      method: "POST",
      body: JSON.stringify({ budgetUsd: 5 }),
    });
    expect(retry.status).toBe(202);
    const session = await stack.waitForSession(id);
    expect(session).toMatchObject({ status: "succeeded", budgetUsd: 5 });
    expect(session.totals.costUsd).toBeLessThanOrEqual(5);
  });

  it("refuses a budget that is not a positive number", async () => {
    const response = await stack.request("/api/sessions", {
      method: "POST",
      body: JSON.stringify({ request: "Build a todo list app", budgetUsd: -1 }),
    });
    expect(response.status).toBe(400);
    expect(JSON.stringify(await response.json())).toMatch(/budgetUsd/);
  });
});

describe("the cluster's hourly spend limit", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ maxSpendPerHourUsd: 0.001 });
  });
  afterAll(() => stack?.close());

  it("holds new calls back (no request) while the last hour's spend is over MAX_SPEND_PER_HOUR_USD", async () => {
    const id = await stack.submit("Build a todo list app");
    await until(
      async () =>
        (await stack.db.prisma.sessionEvent.count({ where: { sessionId: id, type: "spend.guard" } })) > 0,
      "the spend guard to hold the call",
    );
    const guard = await stack.db.prisma.sessionEvent.findFirstOrThrow({
      where: { sessionId: id, type: "spend.guard" },
    });
    expect(guard.message).toMatch(
      /^the cluster spent \$0\.00 in the last hour \(MAX_SPEND_PER_HOUR_USD \$0\.001\); requirements waits$/,
    );
    expect(stack.sim.requests()).toHaveLength(0);
    expect((await stack.request(`/api/sessions/${id}/cancel`, { method: "POST" })).status).toBe(200);
  });
});

describe("the response cache", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(() => stack?.close());

  const sent = (id: string) =>
    stack.sim.requests().filter((request) => request.headers["x-foundry-request-id"]?.startsWith(id)).length;

  it("answers a session that opts in from earlier identical answers, at no cost, and only then", async () => {
    const first = await stack.submit("Build a todo list app", { cache: true });
    const filled = await stack.waitForSession(first);
    expect(filled.status).toBe("succeeded");
    expect(filled.totals.cachedCalls).toBe(0);

    const second = await stack.submit("Build a todo list app", { cache: true });
    const reused = await stack.waitForSession(second);
    expect(reused.status).toBe("succeeded");
    expect(sent(second)).toBe(0);
    expect(reused.totals).toMatchObject({ cachedCalls: reused.calls.length, costUsd: 0, inputTokens: 0 });
    expect(reused.calls.every((call) => call.cached)).toBe(true);
    expect(
      await stack.db.prisma.sessionEvent.count({ where: { sessionId: second, type: "call.cached" } }),
    ).toBe(reused.calls.length);

    // A session that did not opt in asks the providers.
    const third = await stack.submit("Build a todo list app");
    const fresh = await stack.waitForSession(third);
    expect(fresh.totals.cachedCalls).toBe(0);
    expect(sent(third)).toBe(fresh.calls.length);
  });
});
