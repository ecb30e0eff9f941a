import { afterAll, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { SCRIPTED_SHAPES } from "./script/shapes.ts";
import { startSimulator } from "./simulator.ts";
import {
  ALL_PROVIDERS,
  caught,
  clientsFor,
  scriptedWireSchema,
  statusOf,
  structuredCall,
} from "./testing/clients.ts";
import type { Simulator } from "./types.ts";

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator();
});
afterAll(() => sim.close());
beforeEach(() => {
  sim.clearRequests();
  sim.clearFaults();
});

const vote = (provider: (typeof ALL_PROVIDERS)[number], signal?: AbortSignal) =>
  structuredCall(clientsFor(sim), provider, {
    schemaName: "vote",
    schema: scriptedWireSchema("vote"),
    prompt: "Vote on disagreement D1",
    signal,
  });

describe.each(ALL_PROVIDERS)("faults on %s", (provider) => {
  test("server_error answers 500, or the configured status, once by default", async () => {
    sim.injectFault({ provider, kind: "server_error" });
    expect(statusOf(await caught(vote(provider)))).toBe(500);
    await vote(provider);
    sim.injectFault({ provider, kind: "server_error", status: 502 });
    expect(statusOf(await caught(vote(provider)))).toBe(502);
    expect(sim.requests().map((r) => [r.status, r.fault])).toEqual([
      [500, "server_error"],
      [200, null],
      [502, "server_error"],
    ]);
  });

  test("overloaded answers 529 on Anthropic and 503 elsewhere", async () => {
    sim.injectFault({ provider, kind: "overloaded" });
    expect(statusOf(await caught(vote(provider)))).toBe(provider === "anthropic" ? 529 : 503);
  });

  test("rate_limit answers 429 with the given retry-after", async () => {
    sim.injectFault({ provider, kind: "rate_limit", retryAfterSeconds: 7 });
    const error = await caught(vote(provider));
    expect(statusOf(error)).toBe(429);
    if (provider === "gemini") {
      expect((error as Error).message).toContain('"retryDelay":"7s"');
    } else {
      const headers = (error as { headers: Headers }).headers;
      expect(headers.get("retry-after")).toBe("7");
      expect(headers.get("retry-after-ms")).toBe("7000");
    }
  });

  test("rate_limit with retryAfterSeconds null answers 429 without any retry-after", async () => {
    sim.injectFault({ provider, kind: "rate_limit", retryAfterSeconds: null });
    const error = await caught(vote(provider));
    expect(statusOf(error)).toBe(429);
    if (provider === "gemini") {
      expect((error as Error).message).not.toContain("retryDelay");
    } else {
      const headers = (error as { headers: Headers }).headers;
      expect(headers.get("retry-after")).toBeNull();
      expect(headers.get("retry-after-ms")).toBeNull();
    }
  });

  test("unauthorized answers 401 even with the right key", async () => {
    sim.injectFault({ provider, kind: "unauthorized" });
    expect(statusOf(await caught(vote(provider)))).toBe(401);
  });

  test("malformed_json answers 200 with text that is not JSON", async () => {
    sim.injectFault({ provider, kind: "malformed_json" });
    const { text, raw } = await vote(provider);
    expect(() => JSON.parse(text)).toThrow();
    if (provider === "anthropic") {
      // No tool_use block: the model "answered" in text instead of calling the tool.
      expect(raw).toMatchObject({ stop_reason: "end_turn", content: [{ type: "text" }] });
    }
    expect(sim.requests()[0]).toMatchObject({ status: 200, fault: "malformed_json" });
  });

  test("schema_violation answers JSON that breaks the schema", async () => {
    sim.injectFault({ provider, kind: "schema_violation" });
    const { text } = await vote(provider);
    const parsed = SCRIPTED_SHAPES.vote.safeParse(JSON.parse(text));
    expect(parsed.success).toBe(false);
    expect(sim.requests()[0]).toMatchObject({ status: 200, fault: "schema_violation" });
  });

  test("hang never answers until the client aborts", async () => {
    sim.injectFault({ provider, kind: "hang" });
    const controller = new AbortController();
    const pending = caught(vote(provider, controller.signal));
    await waitFor(() => sim.requests()[0]?.fault === "hang");
    expect(sim.requests()[0]).toMatchObject({ status: 0, respondedAt: null });
    controller.abort();
    const error = await pending;
    // APIUserAbortError from OpenAI and Anthropic, the fetch AbortError from @google/genai.
    expect(`${(error as Error).constructor.name} ${(error as Error).name}`).toMatch(/Abort/);
    // The next request is served normally.
    await vote(provider);
    expect(sim.requests().map((r) => r.status)).toEqual([0, 200]);
  });
});

describe("quota faults: each provider's real answer to a spent quota or credit balance", () => {
  /** The error body as each SDK exposes it. */
  const bodyOf = (error: unknown): Record<string, unknown> => {
    const e = error as { error?: unknown; message: string };
    return (e.error as Record<string, unknown> | undefined) ?? JSON.parse(e.message);
  };

  test("openai: 429 insufficient_quota, without retry-after", async () => {
    sim.injectFault({ provider: "openai", kind: "quota" });
    const error = (await caught(vote("openai"))) as { status: number; headers: Headers; code: string };

    expect(error.status).toBe(429);
    expect(error).toMatchObject({ code: "insufficient_quota", type: "insufficient_quota" });
    expect(bodyOf(error)).toMatchObject({
      message: expect.stringContaining("You exceeded your current quota"),
    });
    expect(error.headers.get("retry-after")).toBeNull();
    expect(sim.requests()[0]).toMatchObject({ status: 429, fault: "quota" });
  });

  test("anthropic: 400 'credit balance is too low' by default, billing_error on 402 and 403", async () => {
    sim.injectFault({ provider: "anthropic", kind: "quota" });
    sim.injectFault({ provider: "anthropic", kind: "quota", status: 402 });
    sim.injectFault({ provider: "anthropic", kind: "quota", status: 403 });

    const low = (await caught(vote("anthropic"))) as { status: number; type: string; apiMessage: string };
    const payment = (await caught(vote("anthropic"))) as { status: number; type: string };
    const held = (await caught(vote("anthropic"))) as { status: number; type: string };

    expect(low).toMatchObject({ status: 400, type: "invalid_request_error" });
    expect(low.apiMessage).toMatch(/^Your credit balance is too low to access the Anthropic API/);
    expect(payment).toMatchObject({ status: 402, type: "billing_error" });
    expect(held).toMatchObject({ status: 403, type: "billing_error" });
  });

  test("gemini: 429 RESOURCE_EXHAUSTED with a per-day QuotaFailure; a rate limit's is per minute", async () => {
    sim.injectFault({ provider: "gemini", kind: "quota" });
    sim.injectFault({ provider: "gemini", kind: "rate_limit", retryAfterSeconds: 3 });

    const quota = bodyOf(await caught(vote("gemini"))).error as Record<string, unknown>;
    const limit = bodyOf(await caught(vote("gemini"))).error as Record<string, unknown>;

    const quotaIds = (body: Record<string, unknown>) =>
      (body.details as { "@type": string; violations?: { quotaId: string }[] }[])
        .filter((d) => d["@type"] === "type.googleapis.com/google.rpc.QuotaFailure")
        .flatMap((d) => d.violations!.map((v) => v.quotaId));
    expect(quota).toMatchObject({ code: 429, status: "RESOURCE_EXHAUSTED" });
    expect(quotaIds(quota)).toEqual(["GenerateRequestsPerDayPerProjectPerModel"]);
    expect(quota.message).toContain("You exceeded your current quota");
    // Google's words are the same for both: only the quota id tells them apart.
    expect(limit).toMatchObject({ code: 429, status: "RESOURCE_EXHAUSTED" });
    expect(quotaIds(limit)).toEqual(["GenerateRequestsPerMinutePerProjectPerModel"]);
    expect(limit.message).toContain("You exceeded your current quota");
    expect(limit.details).toContainEqual({
      "@type": "type.googleapis.com/google.rpc.RetryInfo",
      retryDelay: "3s",
    });
  });
});

describe("fault matching", () => {
  test("a fault scoped to a provider and schema name hits only those requests, `times` times", async () => {
    sim.injectFault({ provider: "openai", schemaName: "vote", kind: "server_error", times: 2 });
    const requirements = () =>
      structuredCall(clientsFor(sim), "openai", {
        schemaName: "requirements",
        schema: scriptedWireSchema("requirements"),
        prompt: "Build a todo list app",
      });
    await requirements();
    await vote("anthropic");
    await caught(vote("openai"));
    await caught(vote("openai"));
    await vote("openai");
    expect(sim.requests().map((r) => `${r.provider}:${r.schemaName}:${r.status}`)).toEqual([
      "openai:requirements:200",
      "anthropic:vote:200",
      "openai:vote:500",
      "openai:vote:500",
      "openai:vote:200",
    ]);
  });

  test("times: Infinity keeps failing until the faults are cleared", async () => {
    sim.injectFault({ kind: "server_error", times: Number.POSITIVE_INFINITY });
    for (const provider of ALL_PROVIDERS) expect(statusOf(await caught(vote(provider)))).toBe(500);
    expect(statusOf(await caught(vote("openai")))).toBe(500);
    sim.clearFaults();
    await vote("openai");
  });

  test("probability 0 never fires", async () => {
    sim.injectFault({ kind: "server_error", probability: 0, times: Number.POSITIVE_INFINITY });
    for (let i = 0; i < 5; i++) await vote("gemini");
  });

  test("close() ends a hanging request", async () => {
    const own = await startSimulator();
    own.injectFault({ kind: "hang" });
    const pending = caught(
      structuredCall(clientsFor(own), "openai", {
        schemaName: "vote",
        schema: scriptedWireSchema("vote"),
        prompt: "D1",
      }),
    );
    await waitFor(() => own.requests()[0]?.fault === "hang");
    await own.close();
    const error = await pending;
    expect((error as Error).constructor.name).toBe("APIConnectionError");
  });
});

async function waitFor(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  if (!condition()) throw new Error("condition not met");
}
