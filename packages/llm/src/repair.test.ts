import { describe, expect, it } from "vitest";
import { z } from "zod";
import { ProviderError } from "./errors.ts";
import { REPAIR_LIMITS, repairFromError, repairInstruction, toRepairInput } from "./repair.ts";
import { parseStructured } from "./structured.ts";

const usage = { inputTokens: 1, outputTokens: 2 };
const schema = z.object({ title: z.string() });

function rejected(text: string): ProviderError {
  try {
    parseStructured("anthropic", schema, text, usage);
  } catch (error) {
    if (error instanceof ProviderError) return error;
    throw error;
  }
  throw new Error("parseStructured accepted the answer");
}

describe("repairFromError", () => {
  it("carries the rejected text and the validation error of a schema_violation", () => {
    const error = rejected('{"title":42}');

    const repair = repairFromError(error);

    expect(repair).toEqual({ previousText: '{"title":42}', error: error.message });
    expect(repair?.error).toContain("violates the output schema");
    expect(repair?.error).toContain("title");
  });

  it("carries a malformed answer, and an empty text when there was none", () => {
    expect(repairFromError(rejected("Here you go: {"))).toMatchObject({ previousText: "Here you go: {" });
    const noText = new ProviderError("gemini returned no text", {
      provider: "gemini",
      code: "malformed_output",
    });
    expect(repairFromError(noText)).toEqual({ previousText: "", error: "gemini returned no text" });
  });

  it.each([
    "rate_limited",
    "quota_exceeded",
    "server_error",
    "auth",
    "bad_request",
    "timeout",
    "aborted",
  ] as const)("returns undefined for %s: a repair turn cannot fix it", (code) => {
    expect(repairFromError(new ProviderError("x", { provider: "openai", code }))).toBeUndefined();
  });

  it("bounds the previous text to 8 KB and the error to 2 KB, marking the cut", () => {
    const huge = `{"title":"${"a".repeat(50_000)}`;
    const error = new ProviderError(`openai returned output that is not JSON: ${"e".repeat(10_000)}`, {
      provider: "openai",
      code: "malformed_output",
      text: huge,
    });

    const repair = repairFromError(error)!;

    expect(repair.previousText.length).toBeLessThanOrEqual(REPAIR_LIMITS.previousTextChars);
    expect(repair.previousText.length).toBeGreaterThan(REPAIR_LIMITS.previousTextChars - 100);
    expect(repair.previousText.startsWith('{"title":"aaa')).toBe(true);
    expect(repair.previousText).toMatch(/…\[cut: 50010 characters in all\]$/);
    expect(repair.error.length).toBeLessThanOrEqual(REPAIR_LIMITS.errorChars);
    expect(repair.error.startsWith("openai returned output that is not JSON")).toBe(true);
  });

  it("never splits a surrogate pair at the cut, and makes the text safe to send", () => {
    const emoji = "📝".repeat(REPAIR_LIMITS.previousTextChars);
    const cut = repairFromError(
      new ProviderError("x", { provider: "openai", code: "malformed_output", text: emoji }),
    )!;
    expect(cut.previousText.isWellFormed()).toBe(true);

    const odd = repairFromError(
      new ProviderError("x", { provider: "openai", code: "malformed_output", text: "a\u0000b\ud83d" }),
    )!;
    expect(odd.previousText).toBe("a\\u0000b\ufffd");
  });
});

describe("toRepairInput", () => {
  it("bounds a rejected answer and error read back from storage the same way", () => {
    const repair = toRepairInput("y".repeat(20_000), "z".repeat(5000));

    expect(repair.previousText.length).toBeLessThanOrEqual(REPAIR_LIMITS.previousTextChars);
    expect(repair.error.length).toBeLessThanOrEqual(REPAIR_LIMITS.errorChars);
    expect(toRepairInput("{}", "title is missing")).toEqual({
      previousText: "{}",
      error: "title is missing",
    });
  });
});

describe("repairInstruction", () => {
  it("quotes the error and asks for a corrected answer to the named schema", () => {
    const text = repairInstruction("backend_plan", { previousText: "{}", error: "title is missing" });

    expect(text).toContain("Your previous answer was rejected: title is missing");
    expect(text).toContain("corrected backend_plan");
    expect(text).toContain("satisfies the output schema");
  });
});
