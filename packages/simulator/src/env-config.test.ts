import { describe, expect, test } from "vitest";
import { parseSimEnv } from "./env-config.ts";

describe("parseSimEnv", () => {
  test("defaults to 127.0.0.1:4010 with nothing else configured", () => {
    expect(parseSimEnv({})).toEqual({
      ok: true,
      logRequests: true,
      options: { port: 4010, host: "127.0.0.1" },
    });
  });

  test("reads latency for all providers or per provider, with ranges", () => {
    const all = parseSimEnv({ SIM_LATENCY_MS: "300" });
    expect(all.ok && all.options.latencyMs).toEqual({ openai: 300, anthropic: 300, gemini: 300 });
    const each = parseSimEnv({ SIM_LATENCY_MS: "openai=200, anthropic=100-400" });
    expect(each.ok && each.options.latencyMs).toEqual({ openai: 200, anthropic: { min: 100, max: 400 } });
  });

  test("reads limits with ms, s and m windows", () => {
    const result = parseSimEnv({
      SIM_LIMITS: "openai=600/60s,anthropic=60/1m,gemini=5/500ms",
      SIM_PORT: "0",
    });
    expect(result).toMatchObject({
      ok: true,
      options: {
        port: 0,
        limits: {
          openai: { max: 600, windowMs: 60_000 },
          anthropic: { max: 60, windowMs: 60_000 },
          gemini: { max: 5, windowMs: 500 },
        },
      },
    });
  });

  test("reads token limits per provider or for all, in the limits' shape", () => {
    const each = parseSimEnv({ SIM_TPM: "openai=30000/60s,gemini=100000/1m" });
    expect(each.ok && each.options.tpm).toEqual({
      openai: { max: 30_000, windowMs: 60_000 },
      gemini: { max: 100_000, windowMs: 60_000 },
    });
    const all = parseSimEnv({ SIM_TPM: "5000/10s" });
    expect(all.ok && all.options.tpm).toEqual({
      openai: { max: 5000, windowMs: 10_000 },
      anthropic: { max: 5000, windowMs: 10_000 },
      gemini: { max: 5000, windowMs: 10_000 },
    });
  });

  test("reads scenario, seed and log level", () => {
    expect(parseSimEnv({ SIM_SCENARIO: "agree", SIM_SEED: "42", SIM_LOG: "warnings" })).toMatchObject({
      ok: true,
      logRequests: false,
      options: { scenario: { planComparison: "agree" }, seed: 42 },
    });
  });

  test.each([
    ["SIM_PORT", "http"],
    ["SIM_PORT", "70000"],
    ["SIM_LATENCY_MS", "fast"],
    ["SIM_LATENCY_MS", "openai=300-100"],
    ["SIM_LIMITS", "openai=600"],
    ["SIM_LIMITS", "mistral=1/1s"],
    ["SIM_TPM", "openai=lots"],
    ["SIM_TPM", "0/1s"],
    ["SIM_SCENARIO", "maybe"],
    ["SIM_SEED", "-1"],
  ])("a bad %s (%s) is an error naming the variable", (name, value) => {
    const result = parseSimEnv({ [name]: value });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toContain(name);
  });
});
