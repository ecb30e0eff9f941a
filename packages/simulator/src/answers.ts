import { deref, isRecord, type JsonSchema, schemaTypes } from "./json-schema.ts";
import type { AnswerContent, ParsedCall } from "./protocol.ts";
import { checkValue } from "./schema-check.ts";
import { fakeValue } from "./schema-faker.ts";
import { scriptedAnswer } from "./script/index.ts";
import type { SimProvider } from "./types.ts";

export interface AnswerContext {
  provider: SimProvider;
  planComparison: "conflicts" | "agree";
  /** Fixed answers by schema name; they win over the scripted ones. */
  answers: ReadonlyMap<string, unknown>;
  /** The content fault to apply, if any. */
  fault: "malformed_json" | "schema_violation" | null;
  warn: (message: string) => void;
}

/**
 * The answer to a call: scripted content for the workflow's schema names, else a value generated
 * from the schema; text for free-text calls. A scripted answer that does not satisfy the schema the
 * request carries (the workflow changed its contract) is replaced by a generated one, with a warning.
 */
export function answerFor(call: ParsedCall, context: AnswerContext): AnswerContent {
  if (!call.json) {
    const text = `Simulated ${context.provider} answer to a ${call.promptText.length}-character prompt.`;
    return context.fault === "malformed_json" ? { kind: "text", text: "{" } : { kind: "text", text };
  }
  // A bare JSON mode (OpenAI json_object, a JSON MIME type without a schema) still wants an object.
  const schema = call.schema ?? { type: "object" };
  const fixed = call.schemaName ? context.answers.get(call.schemaName) : undefined;
  let value =
    fixed !== undefined
      ? fixed
      : call.schemaName
        ? scriptedAnswer(call.schemaName, {
            provider: context.provider,
            prompt: call.promptText,
            planComparison: context.planComparison,
          })
        : undefined;
  if (value !== undefined) {
    const issues = checkValue(schema, value);
    if (issues.length > 0) {
      context.warn(
        `${fixed !== undefined ? "fixed" : "scripted"} "${call.schemaName}" answer does not fit the request's schema (${issues.slice(0, 3).join("; ")}); generating one from the schema`,
      );
      value = undefined;
    }
  }
  value ??= fakeValue(schema);

  if (context.fault === "malformed_json") return { kind: "text", text: malformed(JSON.stringify(value)) };
  if (context.fault === "schema_violation") {
    const broken = violate(schema, value);
    if (checkValue(schema, broken).length === 0)
      context.warn("the schema accepts any value; sending it unchanged");
    return { kind: "json", value: broken, text: JSON.stringify(broken) };
  }
  return { kind: "json", value, text: JSON.stringify(value) };
}

/** Output cut off half-way, the way a truncated generation looks; never parseable. */
function malformed(json: string): string {
  const cut = json.slice(0, Math.max(1, Math.floor(json.length / 2)));
  try {
    JSON.parse(cut);
  } catch {
    return cut;
  }
  return `Here is the JSON you asked for: ${cut}`;
}

/** Well-formed JSON that breaks the schema: a required property dropped, or the wrong type. */
function violate(rootSchema: JsonSchema, value: unknown): unknown {
  const schema = deref(rootSchema, rootSchema);
  if (isRecord(value)) {
    const required = Array.isArray(schema.required) ? schema.required : [];
    const first = required.find((key): key is string => typeof key === "string" && key in value);
    if (first !== undefined) {
      const { [first]: _dropped, ...rest } = value;
      return rest;
    }
    if (schema.additionalProperties === false) return { ...value, unexpectedProperty: true };
  }
  const types = schemaTypes(schema);
  return types.includes("string") ? 42 : "not what the schema asked for";
}
