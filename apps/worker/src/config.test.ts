import { describe, expect, it } from "vitest";
import { parseWorkerEnv } from "./config.ts";

const base = {
  DATABASE_URL: "postgresql://postgres@127.0.0.1:5432/test",
  REDIS_URL: "redis://127.0.0.1:6379",
};

describe("the worker's provider limits", () => {
  it("reads tokens per window and calls in flight per provider; unset means none", () => {
    const env = parseWorkerEnv({ ...base, ANTHROPIC_TPM: "80000/60s", GEMINI_MAX_IN_FLIGHT: "4" });
    expect(env.ANTHROPIC_TPM).toEqual({ max: 80_000, windowMs: 60_000 });
    expect(env.OPENAI_TPM).toBeUndefined();
    expect(env.GEMINI_MAX_IN_FLIGHT).toBe(4);
    expect(env.OPENAI_MAX_IN_FLIGHT).toBeUndefined();
  });

  it.each([
    ["ANTHROPIC_TPM", "80k", /ANTHROPIC_TPM.*expected <tokens>\[\/<window>\]/s],
    ["OPENAI_MAX_IN_FLIGHT", "0", /OPENAI_MAX_IN_FLIGHT/],
    ["GEMINI_RATE_LIMIT", "lots", /GEMINI_RATE_LIMIT.*expected <requests>/s],
  ])("refuses %s=%s, naming the variable", (name, value, message) => {
    expect(() => parseWorkerEnv({ ...base, [name]: value })).toThrow(message);
  });
});
