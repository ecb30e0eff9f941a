import { afterAll, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { startSimulator } from "./simulator.ts";
import {
  ALL_PROVIDERS,
  caught,
  clientsFor,
  scriptedWireSchema,
  statusOf,
  structuredCall,
} from "./testing/clients.ts";
import type { SimProvider, Simulator } from "./types.ts";

// Tokens-per-minute limits through each official SDK: a request reserves its input tokens plus its
// output limit, the reported usage replaces the reservation, and a request that does not fit gets
// the provider's real 429.

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator();
});
afterAll(() => sim.close());
beforeEach(() => {
  sim.clearRequests();
  sim.clearFaults();
  sim.resetStats();
  sim.configure({ tpm: { openai: null, anthropic: null, gemini: null } });
});

const vote = (provider: SimProvider) =>
  structuredCall(clientsFor(sim), provider, {
    schemaName: "vote",
    schema: scriptedWireSchema("vote"),
    prompt: "Vote on disagreement D1",
  });

/** Usage as each provider reports it. */
function usageOf(provider: SimProvider, raw: unknown): { input: number; output: number } {
  const r = raw as Record<string, Record<string, number>>;
  if (provider === "openai") return { input: r.usage!.prompt_tokens!, output: r.usage!.completion_tokens! };
  if (provider === "anthropic") return { input: r.usage!.input_tokens!, output: r.usage!.output_tokens! };
  return { input: r.usageMetadata!.promptTokenCount!, output: r.usageMetadata!.candidatesTokenCount! };
}

// The test clients send an output limit only on Anthropic (max_tokens is required there).
const RESERVED_OUTPUT: Record<SimProvider, number> = { openai: 0, anthropic: 8192, gemini: 0 };

describe.each(ALL_PROVIDERS)("token limit on %s", (provider) => {
  test("a request that would pass the limit gets a 429 saying when it fits; usage is what counts", async () => {
    sim.configure({ tpm: { [provider]: { max: 1_000_000, windowMs: 60_000 } } });
    const first = usageOf(provider, (await vote(provider)).raw);
    const need = first.input + RESERVED_OUTPUT[provider];
    // The answered request holds its usage (not its reservation): exactly one token too few remain.
    sim.configure({ tpm: { [provider]: { max: first.input + first.output + need - 1, windowMs: 60_000 } } });

    const error = await caught(vote(provider));

    expect(statusOf(error)).toBe(429);
    if (provider === "gemini") {
      const body = JSON.parse((error as Error).message) as { error: { details: Record<string, unknown>[] } };
      expect(body.error.details).toContainEqual(
        expect.objectContaining({
          "@type": "type.googleapis.com/google.rpc.QuotaFailure",
          violations: [expect.objectContaining({ quotaId: "GenerateContentInputTokensPerModelPerMinute" })],
        }),
      );
      const retry = body.error.details.find((d) => d["@type"] === "type.googleapis.com/google.rpc.RetryInfo");
      expect(retry?.retryDelay).toMatch(/^\d+s$/);
    } else {
      const { headers } = error as { headers: Headers };
      expect(Number(headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
      expect(Number(headers.get("retry-after"))).toBeLessThanOrEqual(60);
      if (provider === "openai") {
        expect(error).toMatchObject({ type: "tokens", code: "rate_limit_exceeded" });
        expect((error as Error).message).toMatch(
          /on tokens per min \(TPM\): Limit \d+, Used \d+, Requested \d+/,
        );
        expect(headers.get("x-ratelimit-limit-tokens")).toBe(String(first.input + first.output + need - 1));
        expect(headers.get("x-ratelimit-remaining-tokens")).toBe(String(need - 1));
      } else {
        expect(error).toMatchObject({ type: "rate_limit_error" });
        expect(headers.get("anthropic-ratelimit-tokens-remaining")).toBe(String(need - 1));
      }
    }
    expect(sim.requests().map((r) => r.status)).toEqual([200, 429]);
    // One token more and it fits.
    sim.configure({ tpm: { [provider]: { max: first.input + first.output + need, windowMs: 60_000 } } });
    await vote(provider);
    const stats = sim.stats().providers[provider];
    expect(stats?.busiestTokenWindow?.windowMs).toBe(60_000);
    expect(stats?.busiestTokenWindow?.tokens).toBe(2 * (first.input + first.output));
  });

  test("a request larger than the whole limit gets a 429 with no retry time", async () => {
    sim.configure({ tpm: { [provider]: { max: 5, windowMs: 60_000 } } });

    const error = await caught(vote(provider));

    expect(statusOf(error)).toBe(429);
    if (provider === "gemini") {
      expect((error as Error).message).not.toContain("RetryInfo");
    } else {
      expect((error as { headers: Headers }).headers.get("retry-after")).toBeNull();
    }
    if (provider === "openai") expect((error as Error).message).toContain("Request too large");
  });
});

test("OpenAI answers carry x-ratelimit-* headers for the request and token limits that are set", async () => {
  sim.configure({
    limits: { openai: { max: 10, windowMs: 60_000 } },
    tpm: { openai: { max: 50_000, windowMs: 60_000 } },
  });
  const { openai } = clientsFor(sim);

  const { response } = await openai.chat.completions
    .create({ model: "gpt-4.1", messages: [{ role: "user", content: "Say hi" }], max_completion_tokens: 100 })
    .withResponse();

  expect(response.headers.get("x-ratelimit-limit-requests")).toBe("10");
  expect(response.headers.get("x-ratelimit-remaining-requests")).toBe("9");
  expect(response.headers.get("x-ratelimit-limit-tokens")).toBe("50000");
  const remaining = Number(response.headers.get("x-ratelimit-remaining-tokens"));
  // The usage of the answer (not the 100-token reservation) is what stays counted.
  const [recorded] = sim.requests();
  expect(recorded?.status).toBe(200);
  expect(remaining).toBeGreaterThan(50_000 - 100);
  expect(remaining).toBeLessThan(50_000);
  expect(response.headers.get("x-ratelimit-reset-tokens")).toMatch(/^\d+ms$/);
  sim.configure({ limits: { openai: null } });
});
