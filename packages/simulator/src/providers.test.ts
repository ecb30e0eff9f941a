import { afterAll, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { z } from "zod";
import { SCRIPTED_SHAPES, type ScriptedName } from "./script/shapes.ts";
import { startSimulator } from "./simulator.ts";
import {
  ALL_PROVIDERS,
  caught,
  clientsFor,
  MODELS,
  scriptedWireSchema,
  statusOf,
  structuredCall,
  wireSchema,
} from "./testing/clients.ts";
import type { Simulator } from "./types.ts";

// Every provider, through its official SDK: structured answers that validate, what went over the
// wire, usage, keys and the rate limiter.

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator();
});
afterAll(() => sim.close());
beforeEach(() => {
  sim.clearRequests();
  sim.clearFaults();
  sim.configure({ limits: { openai: null, anthropic: null, gemini: null } });
});

const REQUEST = "User request: Build a todo list app";
const SCRIPTED = Object.keys(SCRIPTED_SHAPES) as ScriptedName[];

describe.each(ALL_PROVIDERS)("%s", (provider) => {
  test("a structured call round-trips through the SDK and is recorded", async () => {
    const clients = clientsFor(sim);
    const result = await structuredCall(clients, provider, {
      schemaName: "requirements",
      schema: scriptedWireSchema("requirements"),
      prompt: REQUEST,
    });
    const value = SCRIPTED_SHAPES.requirements.parse(JSON.parse(result.text));
    expect(value.title).toBe("Todo List App");

    const [recorded] = sim.requests({ provider });
    expect(recorded).toMatchObject({
      provider,
      method: "POST",
      model: MODELS[provider],
      schemaName: "requirements",
      status: 200,
      fault: null,
    });
    expect(recorded!.respondedAt).toBeGreaterThanOrEqual(recorded!.receivedAt);
    expect(JSON.stringify(recorded!.body)).toContain("Build a todo list app");
    expect(JSON.stringify(recorded!.headers)).not.toContain(sim.env()[`${provider.toUpperCase()}_API_KEY`]!);
  });

  test.each(SCRIPTED)("scripted %s answer satisfies its schema", async (name) => {
    const result = await structuredCall(clientsFor(sim), provider, {
      schemaName: name,
      schema: scriptedWireSchema(name),
      prompt: `${REQUEST}\nVote on disagreement D1.`,
    });
    expect(SCRIPTED_SHAPES[name].safeParse(JSON.parse(result.text)).success).toBe(true);
  });

  test("any other schema gets a generated value that satisfies it", async () => {
    const shape = z.strictObject({
      city: z.string().min(3).max(40),
      population: z.number().int().min(1000),
      tags: z.array(z.enum(["coastal", "capital"])).min(1),
      mayor: z.strictObject({ name: z.string(), since: z.number() }).nullable(),
    });
    const result = await structuredCall(clientsFor(sim), provider, {
      schemaName: "city_report",
      schema: wireSchema("city_report", shape),
      prompt: "Describe a city.",
    });
    expect(shape.parse(JSON.parse(result.text))).toMatchObject({ tags: ["coastal", "capital"] });
    expect(sim.requests()[0]?.schemaName).toBe("city_report");
  });

  test("usage is a deterministic estimate that grows with the prompt", async () => {
    const usageOf = async (prompt: string) => {
      const { raw } = await structuredCall(clientsFor(sim), provider, {
        schemaName: "vote",
        schema: scriptedWireSchema("vote"),
        prompt,
      });
      return usage(provider, raw);
    };
    const short = await usageOf("Vote on D1.");
    const again = await usageOf("Vote on D1.");
    const long = await usageOf(`Vote on D1. ${"Some context. ".repeat(200)}`);
    expect(again).toEqual(short);
    expect(short.input).toBeGreaterThan(0);
    expect(short.output).toBeGreaterThan(0);
    expect(long.input).toBeGreaterThan(short.input + 500);
  });

  test("a wrong API key is refused with 401 in the provider's format", async () => {
    const error = await caught(
      structuredCall(clientsFor(sim, { [provider]: "wrong-key" }), provider, {
        schemaName: "vote",
        schema: scriptedWireSchema("vote"),
        prompt: "Vote on D1.",
      }),
    );
    expect(statusOf(error)).toBe(401);
    expect(sim.requests()).toMatchObject([{ provider, status: 401, schemaName: "vote" }]);
  });

  test("the limiter answers 429 with retry-after, and the SDK surfaces it", async () => {
    sim.configure({ limits: { [provider]: { max: 2, windowMs: 60_000 } } });
    const call = () =>
      structuredCall(clientsFor(sim), provider, {
        schemaName: "vote",
        schema: scriptedWireSchema("vote"),
        prompt: "Vote on D1.",
      });
    await call();
    await call();
    const error = await caught(call());
    expect(statusOf(error)).toBe(429);
    expect(sim.requests().map((r) => r.status)).toEqual([200, 200, 429]);

    // OpenAI and Anthropic errors carry the response headers; Gemini's ApiError has only the body.
    if (provider === "gemini") {
      const body = JSON.parse((error as Error).message) as { error: { status: string; details: unknown[] } };
      expect(body.error.status).toBe("RESOURCE_EXHAUSTED");
      expect(body.error.details).toContainEqual({
        "@type": "type.googleapis.com/google.rpc.RetryInfo",
        retryDelay: expect.stringMatching(/^\d+s$/),
      });
    } else {
      const headers = (error as { headers: Headers }).headers;
      const seconds = Number(headers.get("retry-after"));
      const ms = Number(headers.get("retry-after-ms"));
      expect(seconds).toBeGreaterThanOrEqual(1);
      expect(seconds).toBeLessThanOrEqual(60);
      expect(ms).toBeGreaterThan(0);
      expect(seconds).toBe(Math.ceil(ms / 1000));
    }
  });
});

function usage(provider: string, raw: unknown): { input: number; output: number } {
  const r = raw as Record<string, Record<string, number>>;
  if (provider === "openai") return { input: r.usage!.prompt_tokens!, output: r.usage!.completion_tokens! };
  if (provider === "anthropic") return { input: r.usage!.input_tokens!, output: r.usage!.output_tokens! };
  return { input: r.usageMetadata!.promptTokenCount!, output: r.usageMetadata!.candidatesTokenCount! };
}
