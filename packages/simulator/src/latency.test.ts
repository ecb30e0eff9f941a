import { describe, expect, test } from "vitest";
import { pickLatency, sleep } from "./latency.ts";
import { seededRandom } from "./random.ts";
import { startSimulator } from "./simulator.ts";
import { clientsFor, scriptedWireSchema, structuredCall } from "./testing/clients.ts";

describe("latency", () => {
  test("a fixed value is used as is; a range draws within it, repeatably for a seed", () => {
    expect(pickLatency(undefined, Math.random)).toBe(0);
    expect(pickLatency(250, Math.random)).toBe(250);
    const draw = (seed: number) => {
      const random = seededRandom(seed);
      return Array.from({ length: 50 }, () => pickLatency({ min: 100, max: 200 }, random));
    };
    const values = draw(3);
    expect(draw(3)).toEqual(values);
    expect(Math.min(...values)).toBeGreaterThanOrEqual(100);
    expect(Math.max(...values)).toBeLessThanOrEqual(200);
    expect(new Set(values).size).toBeGreaterThan(10);
  });

  test("sleep ends early when its signal aborts", async () => {
    const controller = new AbortController();
    const slept = sleep(60_000, controller.signal);
    controller.abort();
    await expect(slept).resolves.toBeUndefined();
  });

  test("configured latency delays the answer; options faults apply from the start", async () => {
    const sim = await startSimulator({
      latencyMs: { gemini: 200 },
      faults: [{ provider: "openai", kind: "malformed_json" }],
    });
    try {
      const call = (provider: "openai" | "gemini") =>
        structuredCall(clientsFor(sim), provider, {
          schemaName: "vote",
          schema: scriptedWireSchema("vote"),
          prompt: "D1",
        });
      await call("gemini");
      const [gemini] = sim.requests({ provider: "gemini" });
      // A lower bound only: the delay is the feature; how much longer it took is not.
      expect(gemini!.respondedAt! - gemini!.receivedAt).toBeGreaterThanOrEqual(190);
      const { text } = await call("openai");
      expect(() => JSON.parse(text)).toThrow();
    } finally {
      await sim.close();
    }
  });
});
