import { z } from "zod";
import { ProviderError } from "./errors.ts";
import type { ProviderName, Usage } from "./types.ts";

/**
 * The JSON Schema sent on the wire for an output schema: draft 2020-12 as zod emits it, with
 * `title` set to the schema name (Gemini carries no separate name) and no `$schema` key
 * (OpenAI's strict mode rejects unknown top-level keywords).
 */
export function toWireJsonSchema(schemaName: string, schema: z.ZodType): Record<string, unknown> {
  return JSON.parse(wireJsonSchemaText(schemaName, schema)) as Record<string, unknown>;
}

/** Wire schemas as JSON text, by schema and name: zod's conversion walks the whole schema. */
const wireSchemas = new WeakMap<z.ZodType, Map<string, string>>();

/** {@link toWireJsonSchema} as JSON text, converted once per schema and name. */
export function wireJsonSchemaText(schemaName: string, schema: z.ZodType): string {
  let byName = wireSchemas.get(schema);
  if (!byName) {
    byName = new Map();
    wireSchemas.set(schema, byName);
  }
  let text = byName.get(schemaName);
  if (text === undefined) {
    const json = z.toJSONSchema(schema, { target: "draft-2020-12", io: "output" }) as Record<string, unknown>;
    delete json.$schema;
    text = JSON.stringify({ title: schemaName, ...json });
    byName.set(schemaName, text);
  }
  return text;
}

/**
 * Parses and validates a model's JSON answer. Throws `ProviderError` with `malformed_output` or
 * `schema_violation`, keeping the raw text and the (billed) usage. A value holding a string that
 * Postgres cannot store is a `schema_violation` too: it would fail to be journaled after it was
 * paid for, and be retried and paid for again.
 */
export function parseStructured<T>(
  provider: ProviderName,
  schema: z.ZodType<T>,
  text: string,
  usage: Usage,
): T {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new ProviderError(`${provider} returned output that is not JSON`, {
      provider,
      code: "malformed_output",
      text,
      usage,
      cause,
    });
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    throw new ProviderError(
      `${provider} returned JSON that violates the output schema: ${z.prettifyError(parsed.error)}`,
      { provider, code: "schema_violation", text, usage, cause: parsed.error },
    );
  }
  const problem = findUnstorableString(parsed.data);
  if (problem) {
    throw new ProviderError(`${provider} returned JSON that cannot be stored: ${problem}`, {
      provider,
      code: "schema_violation",
      text,
      usage,
    });
  }
  return parsed.data;
}

interface Node {
  value: unknown;
  parent?: Node;
  key?: string | number;
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/**
 * Why `value` cannot be stored in Postgres, whose `jsonb` and `text` refuse U+0000 and strings
 * that are not well-formed UTF-16 (lone surrogates); undefined when it can. Walks arrays and
 * objects breadth-first, keys included, without recursion, and spells a path only on a find.
 */
function findUnstorableString(value: unknown): string | undefined {
  const pending: Node[] = [{ value }];
  for (let i = 0; i < pending.length; i++) {
    const node = pending[i]!;
    const { value: current } = node;
    if (typeof current === "string") {
      const why = whyUnstorable(current);
      if (why) return `the string at ${pathOf(node)} ${why}`;
    } else if (Array.isArray(current)) {
      for (const [key, element] of current.entries()) pending.push({ value: element, parent: node, key });
    } else if (typeof current === "object" && current !== null) {
      for (const [key, element] of Object.entries(current)) {
        const child = { value: element, parent: node, key };
        const why = whyUnstorable(key);
        if (why) return `the key ${pathOf(child)} ${why}`;
        pending.push(child);
      }
    }
  }
  return undefined;
}

function whyUnstorable(text: string): string | undefined {
  if (text.includes("\u0000")) return "contains a NUL character (U+0000)";
  if (!text.isWellFormed()) return "is not well-formed Unicode (a lone surrogate)";
  return undefined;
}

/** `$.files[2].content`; JSON.stringify escapes NUL and lone surrogates in an odd key. */
function pathOf(node: Node): string {
  const steps: string[] = [];
  for (let at: Node | undefined = node; at?.parent; at = at.parent) {
    const { key } = at;
    if (typeof key === "number") steps.push(`[${key}]`);
    else if (key !== undefined) steps.push(IDENTIFIER.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`);
  }
  // A deep path keeps its ends.
  if (steps.length > 12) steps.splice(6, steps.length - 12, "…");
  return `$${steps.reverse().join("")}`;
}
