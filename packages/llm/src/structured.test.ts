import { describe, expect, it } from "vitest";
import { z } from "zod";
import { ProviderError } from "./errors.ts";
import { parseStructured, toWireJsonSchema, wireJsonSchemaText } from "./structured.ts";

const usage = { inputTokens: 12, outputTokens: 34 };
const planSchema = z.object({
  title: z.string(),
  files: z.array(z.object({ path: z.string(), content: z.string() })),
});

/** The ProviderError `parseStructured` throws for `text`. */
function rejection(text: string, schema: z.ZodType = planSchema): ProviderError {
  try {
    parseStructured("openai", schema, text, usage);
  } catch (error) {
    expect(error).toBeInstanceOf(ProviderError);
    return error as ProviderError;
  }
  throw new Error("parseStructured accepted the answer");
}

describe("parseStructured", () => {
  it("returns the validated value, astral characters included", () => {
    const text = JSON.stringify({ title: "todo 📝", files: [{ path: "a.ts", content: "é\n\t" }] });

    expect(parseStructured("openai", planSchema, text, usage)).toEqual({
      title: "todo 📝",
      files: [{ path: "a.ts", content: "é\n\t" }],
    });
  });

  it("rejects a NUL character in a nested string as schema_violation, keeping text and usage", () => {
    const text =
      '{"title":"t","files":[{"path":"a.ts","content":"ok"},{"path":"b.ts","content":"x\\u0000y"}]}';

    const error = rejection(text);

    expect(error).toMatchObject({ provider: "openai", code: "schema_violation", text, usage });
    expect(error.isRetryable).toBe(true);
    expect(error.message).toBe(
      "openai returned JSON that cannot be stored: the string at $.files[1].content contains a NUL character (U+0000)",
    );
  });

  it.each([
    ["a lone high surrogate", "\\ud83d"],
    ["a lone low surrogate", "\\ude00"],
    ["a low surrogate before a high one", "\\ude00\\ud83d"],
  ])("rejects %s as schema_violation", (_, escaped) => {
    const text = `{"title":"plan ${escaped}","files":[]}`;

    const error = rejection(text);

    expect(error).toMatchObject({ code: "schema_violation", text, usage });
    expect(error.message).toBe(
      "openai returned JSON that cannot be stored: the string at $.title is not well-formed Unicode (a lone surrogate)",
    );
    expect(error.message.isWellFormed()).toBe(true);
  });

  it("rejects an object key with a NUL character, naming it escaped", () => {
    const schema = z.object({ env: z.record(z.string(), z.string()) });
    const text = '{"env":{"PATH":"/bin","A\\u0000B":"1"}}';

    const error = rejection(text, schema);

    expect(error.code).toBe("schema_violation");
    expect(error.message).toBe(
      'openai returned JSON that cannot be stored: the key $.env["A\\u0000B"] contains a NUL character (U+0000)',
    );
    expect(error.message).not.toContain("\u0000");
  });

  it("checks the value the schema returns: a field it strips is not stored", () => {
    const text = '{"title":"t","files":[],"note":"\\u0000"}';

    expect(parseStructured("openai", planSchema, text, usage)).toEqual({ title: "t", files: [] });
  });

  it("reports a schema violation before an unstorable string", () => {
    const error = rejection('{"title":"\\u0000"}');

    expect(error.code).toBe("schema_violation");
    expect(error.message).toContain("violates the output schema");
  });

  it("walks a deeply nested value without overflowing the stack, bounding the path", () => {
    const depth = 100_000;
    const text = `${"[".repeat(depth)}"\\u0000"${"]".repeat(depth)}`;

    const error = rejection(text, z.unknown());

    expect(error.code).toBe("schema_violation");
    expect(error.message).toBe(
      "openai returned JSON that cannot be stored: the string at $[0][0][0][0][0][0]…[0][0][0][0][0][0] contains a NUL character (U+0000)",
    );
  });
});

describe("toWireJsonSchema", () => {
  it("converts once per schema and name, and hands each caller an object of its own", () => {
    const first = toWireJsonSchema("plan", planSchema);
    const second = toWireJsonSchema("plan", planSchema);
    expect(second).toEqual(first);
    expect(second).not.toBe(first);
    // A caller changing its copy changes nothing for the next caller.
    (first.properties as Record<string, unknown>).title = "changed";
    expect(toWireJsonSchema("plan", planSchema)).toEqual(second);
    expect(Object.keys(first)[0]).toBe("title");
    expect(first.title).toBe("plan");
    expect("$schema" in first).toBe(false);
  });

  it("names the schema as asked, for the same zod schema under two names", () => {
    expect(toWireJsonSchema("a", planSchema).title).toBe("a");
    expect(toWireJsonSchema("b", planSchema).title).toBe("b");
    expect(wireJsonSchemaText("b", planSchema)).toBe(JSON.stringify(toWireJsonSchema("b", planSchema)));
  });
});
