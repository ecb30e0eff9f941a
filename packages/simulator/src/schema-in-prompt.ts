import { isRecord, type JsonSchema } from "./json-schema.ts";
import { matchingBrace } from "./script/json-in-text.ts";

// OpenAI's JSON mode (`response_format: { type: "json_object" }`) carries no schema: a client that
// wants a shape writes its JSON Schema into the prompt, and a model reads it there. So does the
// simulator, to answer with a value of that shape (and, when the schema has a `title`, the scripted
// answer for that name).

/** A JSON Schema found in a text: where it is, and what it says. */
export interface SchemaInText {
  schema: JsonSchema;
  /** The schema's `title`, the name it was sent under; null when untitled. */
  name: string | null;
  start: number;
  /** One past its closing brace. */
  end: number;
}

/**
 * The first JSON object in `text` (outermost objects, in order) that reads as an object schema: it
 * has `type: "object"` and `properties`. Objects that are not JSON (prose with braces) are skipped.
 */
export function findSchemaIn(text: string): SchemaInText | null {
  let start = text.indexOf("{");
  while (start !== -1) {
    const end = matchingBrace(text, start);
    let next = start + 1;
    if (end !== -1) {
      const value = parse(text.slice(start, end + 1));
      if (value !== undefined) {
        if (isObjectSchema(value)) {
          return {
            schema: value,
            name: typeof value.title === "string" ? value.title : null,
            start,
            end: end + 1,
          };
        }
        next = end + 1;
      }
    }
    start = text.indexOf("{", next);
  }
  return null;
}

function isObjectSchema(value: unknown): value is JsonSchema {
  return isRecord(value) && value.type === "object" && isRecord(value.properties);
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
