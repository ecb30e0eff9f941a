import { describe, expect, test } from "vitest";
import { z } from "zod";
import type { JsonSchema } from "./json-schema.ts";
import { checkValue } from "./schema-check.ts";
import { fakeValue } from "./schema-faker.ts";
import { SCRIPTED_SHAPES } from "./script/shapes.ts";

// The generated values are checked with zod's own JSON Schema reader (z.fromJSONSchema), which
// shares nothing with the faker, and with the simulator's checker.

const SCHEMAS: Record<string, JsonSchema> = {
  "every scalar with bounds": {
    type: "object",
    properties: {
      name: { type: "string", minLength: 30, maxLength: 40 },
      code: { type: "string", maxLength: 3 },
      when: { type: "string", format: "date-time" },
      email: { type: "string", format: "email" },
      id: { type: "string", format: "uuid" },
      count: { type: "integer", minimum: 10, maximum: 12 },
      ratio: { type: "number", exclusiveMinimum: 0, exclusiveMaximum: 1 },
      even: { type: "integer", multipleOf: 4, minimum: 5 },
      negative: { type: "number", maximum: -3 },
      flag: { type: "boolean" },
      nothing: { type: "null" },
      fixed: { const: "always" },
      level: { enum: ["low", "high"] },
    },
    required: [
      "name",
      "code",
      "when",
      "email",
      "id",
      "count",
      "ratio",
      "even",
      "negative",
      "flag",
      "nothing",
      "fixed",
      "level",
    ],
    additionalProperties: false,
  },
  "arrays within bounds": {
    type: "object",
    properties: {
      many: { type: "array", items: { type: "string" }, minItems: 3 },
      one: { type: "array", items: { type: "integer" }, maxItems: 1 },
      unique: { type: "array", items: { enum: ["a", "b", "c"] }, uniqueItems: true },
      tuple: { type: "array", prefixItems: [{ type: "string" }, { type: "number" }], items: false },
    },
    required: ["many", "one", "unique", "tuple"],
  },
  "nullable, anyOf and type lists": {
    type: "object",
    properties: {
      maybe: { anyOf: [{ type: "null" }, { type: "string", minLength: 2 }] },
      either: { oneOf: [{ type: "integer" }, { type: "string" }] },
      list: { type: ["null", "array"], items: { type: "boolean" } },
    },
    required: ["maybe", "either", "list"],
    additionalProperties: false,
  },
  "$ref and $defs, recursive": {
    type: "object",
    properties: { root: { $ref: "#/$defs/node" } },
    required: ["root"],
    $defs: {
      node: {
        type: "object",
        properties: {
          label: { type: "string" },
          children: { type: "array", items: { $ref: "#/$defs/node" } },
        },
        required: ["label", "children"],
        additionalProperties: false,
      },
    },
  },
  "allOf merges": {
    allOf: [
      { type: "object", properties: { a: { type: "string" } }, required: ["a"] },
      { type: "object", properties: { b: { type: "integer", minimum: 3 } }, required: ["b"] },
    ],
  },
};

describe("fakeValue", () => {
  test.each(Object.entries(SCHEMAS))("%s: satisfies the schema", (_name, schema) => {
    const value = fakeValue(schema);
    expect(checkValue(schema, value)).toEqual([]);
    const zodSchema = z.fromJSONSchema(schema as Parameters<typeof z.fromJSONSchema>[0]);
    expect(zodSchema.safeParse(value).error).toBeUndefined();
  });

  test.each(Object.entries(SCRIPTED_SHAPES))("the workflow's %s schema: satisfies it", (_name, shape) => {
    const schema = z.toJSONSchema(shape) as JsonSchema;
    const value = fakeValue(schema);
    expect(shape.safeParse(value).error).toBeUndefined();
  });

  test("is deterministic, fills every property and gives arrays one or two items", () => {
    const schema = SCHEMAS["arrays within bounds"]!;
    expect(fakeValue(schema)).toEqual(fakeValue(schema));
    const value = fakeValue(z.toJSONSchema(SCRIPTED_SHAPES.requirements) as JsonSchema) as Record<
      string,
      unknown[]
    >;
    expect(Object.keys(value).sort()).toEqual(
      ["assumptions", "constraints", "features", "nonFunctional", "summary", "title"].sort(),
    );
    expect(value.features).toHaveLength(2);
    expect(value.features![0]).toMatchObject({ priority: "must" });
  });

  test("reads Gemini's OpenAPI-style schemas (upper-case types, nullable, string integers)", () => {
    const schema: JsonSchema = {
      type: "OBJECT",
      properties: {
        items: { type: "ARRAY", items: { type: "STRING" }, minItems: "3" },
        note: { type: "STRING", nullable: true },
        score: { type: "INTEGER", minimum: 5 },
      },
      required: ["items", "note", "score"],
    };
    const value = fakeValue(schema) as { items: unknown[]; score: number };
    expect(value.items).toHaveLength(3);
    expect(value.score).toBe(5);
    expect(checkValue(schema, value)).toEqual([]);
  });
});

describe("checkValue", () => {
  const schema = z.toJSONSchema(SCRIPTED_SHAPES.vote) as JsonSchema;

  test("accepts a conforming value", () => {
    expect(checkValue(schema, { disagreementId: "D1", choice: "backend", rationale: "r" })).toEqual([]);
  });

  test.each([
    [{ disagreementId: "D1", choice: "backend" }, "$.rationale: is required"],
    [{ disagreementId: "D1", choice: "sideways", rationale: "r" }, "$.choice: expected one of"],
    [
      { disagreementId: 1, choice: "backend", rationale: "r" },
      "$.disagreementId: expected string, got number",
    ],
    [{ disagreementId: "D1", choice: "backend", rationale: "r", extra: true }, "$.extra: is not allowed"],
    [[], "$: expected object, got array"],
  ])("reports %j", (value, issue) => {
    const issues = checkValue(schema, value);
    expect(issues.join("\n")).toContain(issue);
    // zod agrees that it is invalid.
    expect(SCRIPTED_SHAPES.vote.safeParse(value).success).toBe(false);
  });

  test("follows $ref and anyOf", () => {
    const tree = SCHEMAS["$ref and $defs, recursive"]!;
    expect(checkValue(tree, { root: { label: "a", children: [{ label: "b", children: [] }] } })).toEqual([]);
    expect(checkValue(tree, { root: { label: "a", children: [{ label: 2, children: [] }] } })).toEqual([
      "$.root.children[0].label: expected string, got number",
    ]);
    const maybe = SCHEMAS["nullable, anyOf and type lists"]!;
    expect(checkValue(maybe, { maybe: "x", either: 1, list: null })).toEqual([
      "$.maybe: matches no allowed alternative",
    ]);
  });
});
