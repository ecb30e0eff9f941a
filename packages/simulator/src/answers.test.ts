import { describe, expect, test } from "vitest";
import { answerFor } from "./answers.ts";
import type { JsonSchema } from "./json-schema.ts";
import type { ParsedCall } from "./protocol.ts";
import { checkValue } from "./schema-check.ts";
import { scriptedWireSchema } from "./testing/clients.ts";

function call(
  schemaName: string | null,
  schema: JsonSchema | null,
  prompt = "Vote on disagreement D2",
): ParsedCall {
  return {
    model: "m",
    schemaName,
    schema,
    json: schema !== null,
    promptText: prompt,
    schemaText: "",
    maxOutputTokens: null,
  };
}

function answer(
  parsed: ParsedCall,
  fault: "malformed_json" | "schema_violation" | null = null,
  answers: ReadonlyMap<string, unknown> = new Map(),
) {
  const warnings: string[] = [];
  const content = answerFor(parsed, {
    provider: "anthropic",
    planComparison: "conflicts",
    answers,
    fault,
    warn: (message) => warnings.push(message),
  });
  return { content, warnings };
}

describe("answerFor", () => {
  test("uses the script for a workflow schema name", () => {
    const { content, warnings } = answer(call("vote", scriptedWireSchema("vote")));
    expect(content).toMatchObject({ kind: "json", value: { disagreementId: "D2", choice: "backend" } });
    expect(warnings).toEqual([]);
  });

  test("falls back to a generated value, with a warning, when the request's schema changed", () => {
    const changed = structuredClone(scriptedWireSchema("vote")) as JsonSchema & {
      properties: Record<string, unknown>;
      required: string[];
    };
    changed.properties.confidence = { type: "number", minimum: 0, maximum: 1 };
    changed.required.push("confidence");
    const { content, warnings } = answer(call("vote", changed));
    expect(content.kind).toBe("json");
    expect(checkValue(changed, content.kind === "json" ? content.value : null)).toEqual([]);
    expect(warnings.join()).toMatch(/scripted "vote" answer does not fit.*confidence/);
  });

  test("a bare JSON mode answers an object; no schema and no JSON mode answers text", () => {
    expect(answer({ ...call(null, null), json: true }).content).toEqual({
      kind: "json",
      value: {},
      text: "{}",
    });
    expect(answer(call(null, null)).content.kind).toBe("text");
  });

  test("malformed_json never parses, schema_violation parses but breaks the schema", () => {
    const schema = scriptedWireSchema("requirements");
    const malformed = answer(call("requirements", schema, "Build a todo list app"), "malformed_json").content;
    expect(malformed.kind).toBe("text");
    expect(() => JSON.parse(malformed.text)).toThrow();

    const violation = answer(call("requirements", schema), "schema_violation").content;
    expect(violation.kind).toBe("json");
    expect(checkValue(schema, JSON.parse(violation.text))).toEqual(["$.title: is required"]);

    const scalar = answer(call("n", { type: "integer" }), "schema_violation").content;
    expect(checkValue({ type: "integer" }, JSON.parse(scalar.text)).length).toBeGreaterThan(0);
  });
});

describe("fixed answers", () => {
  const schema: JsonSchema = {
    type: "object",
    properties: { summary: { type: "string" } },
    required: ["summary"],
    additionalProperties: false,
  };

  test("win over the scripted answer when they fit the schema", () => {
    const { content, warnings } = answer(
      call("vote", schema),
      null,
      new Map([["vote", { summary: "fixed" }]]),
    );
    expect(content).toMatchObject({ kind: "json", value: { summary: "fixed" } });
    expect(warnings).toEqual([]);
  });

  test("are replaced by a generated value, with a warning, when they do not", () => {
    const { content, warnings } = answer(call("vote", schema), null, new Map([["vote", { nope: 1 }]]));
    expect(content.kind).toBe("json");
    expect((content as { value: { summary: unknown } }).value.summary).toEqual(expect.any(String));
    expect(warnings[0]).toMatch(/^fixed "vote" answer does not fit/);
  });
});
