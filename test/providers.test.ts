import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type Stack, startStack } from "./support/stack.ts";
import { requestsFor } from "./support/wait.ts";
import { withoutFallbacks, workflowVariant } from "./support/workflows.ts";

// Providers at scale, against the simulator: fallbacks along each role's route, the shared circuit
// breaker, repair turns after bad output. The workflow's roles list their providers in order
// (manager: openai then anthropic; backend: anthropic then openai; frontend: gemini then openai).
describe("fallback and the circuit breaker", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({
      breaker: { failureThreshold: 2, cooldownMs: 60_000 },
      durability: { maxRateLimitHits: 3, maxRateLimitPauseMs: 500 },
      callTimeoutMs: 1_500,
    });
  });
  afterAll(() => stack?.close());
  afterEach(() => stack.sim.clearFaults());

  const fallbackEvents = (id: string) =>
    stack.db.prisma.sessionEvent.findMany({
      where: { sessionId: id, type: "call.fallback" },
      orderBy: { id: "asc" },
    });

  it("moves a call to the next provider when the primary keeps failing, and the breaker then skips it for everyone", async () => {
    stack.sim.injectFault({ provider: "anthropic", kind: "server_error", status: 503, times: null });
    const first = await stack.submit("Build a todo list app");
    const session = await stack.waitForSession(first, 60_000);
    expect(session.status).toBe("succeeded");
    const backend = session.calls.find((call) => call.idempotencyKey === `${first}.planning.backend`);
    expect(backend).toMatchObject({
      status: "succeeded",
      provider: "openai",
      model: "gpt-6-sol",
      fallbackFrom: "anthropic/claude-sonnet-5-5",
    });
    const switched = await fallbackEvents(first);
    expect(switched[0]?.message).toMatch(
      /^anthropic unavailable \(breaker open since \d\d:\d\d:\d\d UTC; last error: anthropic answered HTTP 503.*\); backend planning \(backend\) goes to openai\/gpt-6-sol$/,
    );
    const opened = await stack.db.prisma.sessionEvent.count({
      where: { sessionId: first, type: "provider.breaker_opened" },
    });
    expect(opened).toBe(1);
    // Two requests opened the breaker; after it, none.
    expect(
      requestsFor(stack, `${first}.planning.backend`).filter((r) => r.provider === "anthropic"),
    ).toHaveLength(2);

    // Another session: what the first one learned protects it. Its backend calls go straight to openai.
    const second = await stack.submit("Build a todo list app");
    expect((await stack.waitForSession(second, 60_000)).status).toBe("succeeded");
    const anthropicRequests = stack.sim
      .requests({ provider: "anthropic" })
      .filter((request) => request.headers["x-foundry-request-id"]?.startsWith(second));
    expect(anthropicRequests).toHaveLength(0);
    expect((await fallbackEvents(second)).length).toBeGreaterThanOrEqual(2);
  });

  it("does not fall back on a configuration error: it fails at once, naming the provider", async () => {
    stack.sim.injectFault({ provider: "openai", schemaName: "requirements", kind: "unauthorized", times: 1 });
    const id = await stack.submit("Build a todo list app");
    const session = await stack.waitForSession(id, 30_000);
    expect(session).toMatchObject({ status: "failed", errorCode: "config" });
    expect(session.error).toMatch(/^openai call requirements\.requirements failed: openai answered HTTP 401/);
    expect(await fallbackEvents(id)).toHaveLength(0);
  });

  it("resets a breaker's count with the next success after a failure", async () => {
    const settings = { failureThreshold: 2, cooldownMs: 60_000 };
    stack.sim.injectFault({ provider: "openai", schemaName: "requirements", kind: "server_error", times: 1 });
    const id = await stack.submit("Build a todo list app");
    expect((await stack.waitForSession(id, 60_000)).status).toBe("succeeded");
    expect(requestsFor(stack, `${id}.requirements.requirements`)).toHaveLength(2);
    // The retry was admitted with one failure counted, so its success was reported and reset it.
    expect(await stack.deps.breakers.admit("openai/gpt-6-sol", settings)).toEqual({
      allowed: true,
      probe: false,
      clean: true,
    });
  });
});

// Its own stack: the breakers the first tests opened (anthropic's, for a minute) would hold this
// session's manager calls until their cool-down ends.
describe("fallback after timeouts and a spent quota", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ breaker: { failureThreshold: 2, cooldownMs: 60_000 }, callTimeoutMs: 1_500 });
  });
  afterAll(() => stack?.close());

  const fallbackEvents = (id: string) =>
    stack.db.prisma.sessionEvent.findMany({
      where: { sessionId: id, type: "call.fallback" },
      orderBy: { id: "asc" },
    });

  it("falls back after timeouts too, and after a provider's quota is spent", async () => {
    stack.sim.injectFault({ provider: "gemini", kind: "hang", times: null });
    stack.sim.injectFault({ provider: "openai", schemaName: "requirements", kind: "quota", times: null });
    const id = await stack.submit("Build a todo list app");
    const session = await stack.waitForSession(id, 60_000);
    expect(session.status).toBe("succeeded");
    const byKey = new Map(session.calls.map((call) => [`${call.callKey}@${call.phase}`, call]));
    expect(byKey.get("requirements@requirements")).toMatchObject({
      provider: "anthropic",
      fallbackFrom: "openai/gpt-6-sol",
    });
    expect(byKey.get("frontend@planning")).toMatchObject({
      provider: "openai",
      fallbackFrom: "gemini/gemini-3.8-flash",
    });
    const reasons = (await fallbackEvents(id)).map((event) => event.message);
    expect(reasons.some((reason) => /openai\/gpt-6-sol failed .*quota/i.test(reason))).toBe(true);
    expect(reasons.some((reason) => /gemini/.test(reason) && /timed out|breaker open/.test(reason))).toBe(
      true,
    );
  });
});

describe("repair instead of blind retries", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ workflowsDir: await workflowVariant(withoutFallbacks) });
  });
  afterAll(() => stack?.close());

  it("sends the schema error back to the model once, then retries from scratch, billing every attempt", async () => {
    stack.sim.injectFault({
      provider: "openai",
      schemaName: "requirements",
      kind: "schema_violation",
      times: 2,
    });
    const id = await stack.submit("Build a todo list app");
    const session = await stack.waitForSession(id, 60_000);
    expect(session.status).toBe("succeeded");
    const key = `${id}.requirements.requirements`;
    const requests = requestsFor(stack, key);
    expect(requests.map((request) => request.status)).toEqual([200, 200, 200]);
    const turns = requests.map(
      (request) => ((request.body as { messages: unknown[] }).messages ?? []).length,
    );
    // Attempt 1: system + user. Attempt 2: the repair turn (its answer and the error added). Attempt 3: from scratch.
    expect(turns).toEqual([2, 4, 2]);
    const repairTurn = JSON.stringify(
      (requests[1]?.body as { messages?: unknown[] } | undefined)?.messages?.at(-1),
    );
    expect(repairTurn).toMatch(/schema|rejected|invalid/i);
    const call = session.calls.find((candidate) => candidate.idempotencyKey === key);
    expect(call).toMatchObject({ status: "succeeded", attempts: 3 });
    // Each of the three answers was billed to the call, the two unusable ones too.
    const stored = await stack.db.prisma.sessionEvent.findFirstOrThrow({
      where: { sessionId: id, type: "call.succeeded", phase: "requirements" },
    });
    const last = (stored.data as { inputTokens: number }).inputTokens;
    expect(call?.inputTokens).toBeGreaterThan(2 * last);
  });
});
