import { afterAll, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { createApp } from "./server.ts";
import { startSimulator } from "./simulator.ts";
import { SimState } from "./state.ts";
import { caught, clientsFor, scriptedWireSchema, statusOf, structuredCall } from "./testing/clients.ts";
import type { RecordedRequest, SimStats, Simulator } from "./types.ts";

describe("admin API in-process", () => {
  const app = createApp(new SimState({}));
  const json = (method: string, path: string, body?: unknown) =>
    app.request(path, {
      method,
      headers: { "content-type": "application/json" },
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });

  test("health", async () => {
    const res = await app.request("/_sim/health");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ok" });
  });

  test("a valid fault is added and listed; times null means unlimited", async () => {
    const res = await json("POST", "/_sim/faults", { kind: "server_error", provider: "gemini", times: null });
    expect(res.status).toBe(201);
    const list = (await (await app.request("/_sim/faults")).json()) as { faults: unknown[] };
    // Infinity is not JSON: the list shows unlimited faults with times null.
    expect(list.faults).toEqual([{ kind: "server_error", provider: "gemini", times: null }]);
    expect((await json("DELETE", "/_sim/faults")).status).toBe(204);
    expect(await (await app.request("/_sim/faults")).json()).toEqual({ faults: [] });
  });

  test.each([
    [{ kind: "explode" }, "kind"],
    [{ kind: "hang", provider: "mistral" }, "provider"],
    [{ kind: "hang", times: 0 }, "times"],
    [{ kind: "hang", probability: 2 }, "probability"],
    [{ kind: "server_error", status: 200 }, "status"],
    [{ kind: "hang", colour: "red" }, "colour"],
  ])("a bad fault %j is a 400 naming %s", async (body, field) => {
    const res = await json("POST", "/_sim/faults", body);
    expect(res.status).toBe(400);
    const { error } = (await res.json()) as { error: { message: string } };
    expect(error.message).toContain(field);
  });

  test("a body that is not JSON is a 400", async () => {
    const res = await json("POST", "/_sim/faults", "{nope");
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: { message: "The request body is not valid JSON" } });
  });

  test("config is patched per provider and read back; bad config is a 400", async () => {
    const patched = await json("PATCH", "/_sim/config", {
      latencyMs: { openai: { min: 1, max: 2 } },
      limits: { anthropic: { max: 5, windowMs: 1000 } },
      tpm: { gemini: { max: 20_000, windowMs: 60_000 } },
      scenario: {
        planComparison: "agree",
        answers: { vote: { disagreementId: "D1", choice: "backend", rationale: "x" } },
      },
    });
    expect(patched.status).toBe(200);
    expect(await patched.json()).toEqual({
      latencyMs: { openai: { min: 1, max: 2 } },
      limits: { anthropic: { max: 5, windowMs: 1000 } },
      tpm: { gemini: { max: 20_000, windowMs: 60_000 } },
      scenario: {
        planComparison: "agree",
        answers: { vote: { disagreementId: "D1", choice: "backend", rationale: "x" } },
      },
    });
    await json("PATCH", "/_sim/config", { scenario: { answers: { vote: null } } });
    expect(((await (await app.request("/_sim/config")).json()) as { scenario: unknown }).scenario).toEqual({
      planComparison: "agree",
      answers: {},
    });
    await json("PATCH", "/_sim/config", {
      latencyMs: { openai: null },
      limits: { anthropic: null },
      tpm: { gemini: null },
    });
    expect(await (await app.request("/_sim/config")).json()).toMatchObject({
      latencyMs: {},
      limits: {},
      tpm: {},
    });

    const bad = await json("PATCH", "/_sim/config", { limits: { openai: { max: -1, windowMs: 1000 } } });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toContain(
      "limits.openai.max",
    );
    const badTpm = await json("PATCH", "/_sim/config", { tpm: { gemini: { max: 10 } } });
    expect(badTpm.status).toBe(400);
    expect(((await badTpm.json()) as { error: { message: string } }).error.message).toContain(
      "tpm.gemini.windowMs",
    );
  });

  test("unknown routes are a JSON 404", async () => {
    const res = await app.request("/nowhere");
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: { message: expect.stringContaining("/nowhere") } });
  });
});

describe("admin API over HTTP, controlling a running simulator", () => {
  let sim: Simulator;
  const admin = (method: string, path: string, body?: unknown) =>
    fetch(`${sim.url}/_sim${path}`, {
      method,
      headers: { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const vote = (provider: "openai" | "anthropic" | "gemini") =>
    structuredCall(clientsFor(sim), provider, {
      schemaName: "vote",
      schema: scriptedWireSchema("vote"),
      prompt: "D1",
    });

  beforeAll(async () => {
    sim = await startSimulator();
  });
  afterAll(() => sim.close());
  beforeEach(async () => {
    await admin("DELETE", "/requests");
    await admin("DELETE", "/faults");
  });

  test("faults injected over HTTP hit the SDKs' calls", async () => {
    expect(
      (await admin("POST", "/faults", { kind: "server_error", provider: "anthropic", status: 503 })).status,
    ).toBe(201);
    expect(statusOf(await caught(vote("anthropic")))).toBe(503);
    await vote("anthropic");
  });

  test("recorded requests are listed, filtered and cleared", async () => {
    await vote("openai");
    await vote("gemini");
    await structuredCall(clientsFor(sim), "gemini", {
      schemaName: "requirements",
      schema: scriptedWireSchema("requirements"),
      prompt: "Build a todo list app",
    });
    const all = (await (await admin("GET", "/requests")).json()) as { requests: RecordedRequest[] };
    expect(all.requests.map((r) => r.seq)).toEqual([...all.requests.map((r) => r.seq)].sort((a, b) => a - b));
    expect(all.requests.map((r) => `${r.provider}:${r.schemaName}`)).toEqual([
      "openai:vote",
      "gemini:vote",
      "gemini:requirements",
    ]);
    const filtered = (await (await admin("GET", "/requests?provider=gemini&schemaName=vote")).json()) as {
      requests: RecordedRequest[];
    };
    expect(filtered.requests).toHaveLength(1);
    expect((await admin("GET", "/requests?provider=mistral")).status).toBe(400);
    expect((await admin("DELETE", "/requests")).status).toBe(204);
    expect(await (await admin("GET", "/requests")).json()).toEqual({ requests: [] });
  });

  test("limits and scenario set over HTTP take effect", async () => {
    await admin("PATCH", "/config", { limits: { gemini: { max: 1, windowMs: 60_000 } } });
    await vote("gemini");
    expect(statusOf(await caught(vote("gemini")))).toBe(429);
    await admin("PATCH", "/config", { limits: { gemini: null }, scenario: { planComparison: "agree" } });
    const comparison = await structuredCall(clientsFor(sim), "openai", {
      schemaName: "plan_comparison",
      schema: scriptedWireSchema("plan_comparison"),
      prompt: "Compare the plans",
    });
    expect(JSON.parse(comparison.text)).toMatchObject({ disagreements: [] });
    await admin("PATCH", "/config", { scenario: { planComparison: "conflicts" } });
  });
});

describe("request ids and stats", () => {
  let sim: Simulator;
  const get = async <T>(path: string): Promise<{ status: number; body: T }> => {
    const res = await fetch(`${sim.url}/_sim${path}`);
    return { status: res.status, body: (await res.json()) as T };
  };
  const vote = (requestId?: string) =>
    clientsFor(sim).openai.chat.completions.create(
      {
        model: "gpt-4.1",
        messages: [{ role: "user", content: "Vote on disagreement D1" }],
        response_format: {
          type: "json_schema",
          json_schema: { name: "vote", schema: scriptedWireSchema("vote") },
        },
      },
      { headers: requestId ? { "X-Foundry-Request-Id": requestId } : {} },
    );

  beforeAll(async () => {
    // A recorder that keeps one request: the stats must count them all anyway.
    sim = await startSimulator({ maxRecordedRequests: 1, limits: { openai: { max: 2, windowMs: 60_000 } } });
  });
  afterAll(() => sim.close());

  test("requests are found by our X-Foundry-Request-Id, in process and over HTTP", async () => {
    await vote("s1.plan.backend#1");
    expect(sim.requests({ requestId: "s1.plan.backend#1" })).toHaveLength(1);
    expect(sim.requests({ requestId: "s1.plan.backend#2" })).toEqual([]);
    const found = await get<{ requests: RecordedRequest[] }>(
      `/requests?requestId=${encodeURIComponent("s1.plan.backend#1")}`,
    );
    expect(found.body.requests.map((r) => r.headers["x-foundry-request-id"])).toEqual(["s1.plan.backend#1"]);
    expect((await get<{ requests: unknown[] }>("/requests?requestId=other")).body.requests).toEqual([]);
  });

  test("stats count every request past the bounded recorder, with the busiest window of the limit", async () => {
    sim.resetStats();
    // Removing the limit forgets the requests it counted; then 2 a minute again.
    sim.configure({ limits: { openai: null } });
    sim.configure({ limits: { openai: { max: 2, windowMs: 60_000 } } });
    const first = await vote();
    const second = await vote();
    expect(statusOf(await caught(vote()))).toBe(429);
    expect(sim.requests()).toHaveLength(1);

    const { status, body } = await get<SimStats>("/stats");

    expect(status).toBe(200);
    expect(body.since).toBeLessThanOrEqual(Date.now());
    expect(body.providers).toEqual({
      openai: {
        requests: 3,
        inFlight: 0,
        byStatus: { "200": 2, "429": 1 },
        tokens: {
          input: first.usage!.prompt_tokens + second.usage!.prompt_tokens,
          output: first.usage!.completion_tokens + second.usage!.completion_tokens,
        },
        // Three reached the limit in one window: more than its max of 2, hence the 429.
        busiestWindow: { windowMs: 60_000, requests: 3 },
        busiestTokenWindow: null,
      },
    });
    expect(sim.stats({ windowMs: 3_600_000 }).providers.openai?.busiestTokenWindow).toEqual({
      windowMs: 3_600_000,
      tokens: body.providers.openai!.tokens.input + body.providers.openai!.tokens.output,
    });
    expect((await get<{ error: { message: string } }>("/stats?windowMs=soon")).body.error.message).toContain(
      "windowMs",
    );
    expect(() => sim.stats({ windowMs: -1 })).toThrow(/windowMs/);

    expect((await fetch(`${sim.url}/_sim/stats`, { method: "DELETE" })).status).toBe(204);
    expect((await get<SimStats>("/stats")).body.providers).toEqual({});
  });
});
