import { describe, expect, it } from "vitest";
import { z } from "zod";
import { DEFAULT_MAX_OUTPUT_TOKENS, ESTIMATE_FRAMING_TOKENS, estimateTokens } from "./estimate.ts";
import { repairInstruction } from "./repair.ts";
import { toWireJsonSchema } from "./structured.ts";

const schema = z.object({ title: z.string(), done: z.boolean() });
const wire = JSON.stringify(toWireJsonSchema("todo", schema));

describe("estimateTokens", () => {
  it("counts system, prompt and wire schema at four characters a token, rounded up, plus framing", () => {
    const estimate = estimateTokens({
      system: "s".repeat(10),
      prompt: "p".repeat(7),
      schemaName: "todo",
      schema,
    });

    expect(estimate).toEqual({
      input: Math.ceil((10 + 7 + wire.length) / 4) + ESTIMATE_FRAMING_TOKENS,
      maxOutput: DEFAULT_MAX_OUTPUT_TOKENS,
    });
    expect(DEFAULT_MAX_OUTPUT_TOKENS).toBe(8192);
  });

  it("takes the request's output limit, and counts a schema description twice (Anthropic's tool repeats it)", () => {
    const described = schema.describe("A todo item with a title.");
    const base = estimateTokens({ prompt: "p", schemaName: "todo", schema, maxOutputTokens: 100 });
    const more = estimateTokens({ prompt: "p", schemaName: "todo", schema: described, maxOutputTokens: 100 });

    expect(base.maxOutput).toBe(100);
    const describedWire = JSON.stringify(toWireJsonSchema("todo", described));
    expect(more.input).toBe(
      Math.ceil((1 + describedWire.length + "A todo item with a title.".length) / 4) +
        ESTIMATE_FRAMING_TOKENS,
    );
  });

  it("counts a repair turn: the previous answer and the instruction quoting the error", () => {
    const repair = { previousText: "x".repeat(4000), error: "title is missing" };
    const plain = estimateTokens({ prompt: "p", schemaName: "todo", schema });
    const repaired = estimateTokens({ prompt: "p", schemaName: "todo", schema, repair });

    const added = 4000 + repairInstruction("todo", repair).length;
    expect(repaired.input - plain.input).toBeGreaterThanOrEqual(Math.floor(added / 4));
    expect(repaired.input - plain.input).toBeLessThanOrEqual(Math.ceil(added / 4) + 1);
  });
});
