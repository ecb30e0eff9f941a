import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startSimulator } from "./simulator.ts";
import { scriptedWireSchema } from "./testing/clients.ts";
import type { Simulator } from "./types.ts";

// A client that waits what retry-after-ms says converges: here the OpenAI SDK's own retries
// (which honour retry-after-ms), with more calls at once than the window admits.

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ limits: { openai: { max: 2, windowMs: 300 } } });
});
afterAll(() => sim.close());

describe("rate limiting", () => {
  test("a burst through an SDK that honours retry-after-ms completes, with 429s on the wire", async () => {
    const openai = new OpenAI({
      baseURL: sim.env().OPENAI_BASE_URL,
      apiKey: sim.env().OPENAI_API_KEY,
      maxRetries: 8,
    });
    const calls = Array.from({ length: 6 }, (_, i) =>
      openai.chat.completions.create({
        model: "gpt-4.1",
        messages: [{ role: "user", content: `Vote on disagreement D${i + 1}` }],
        response_format: {
          type: "json_schema",
          json_schema: { name: "vote", schema: scriptedWireSchema("vote") },
        },
      }),
    );
    const results = await Promise.all(calls);
    expect(results.map((r) => JSON.parse(r.choices[0]!.message.content!).disagreementId)).toEqual([
      "D1",
      "D2",
      "D3",
      "D4",
      "D5",
      "D6",
    ]);

    const statuses = sim.requests().map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(6);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThan(0);
    expect(statuses.every((s) => s === 200 || s === 429)).toBe(true);
  });
});
