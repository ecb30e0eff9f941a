// The part of JSON Schema the simulator reads: draft 2020-12 as OpenAI, Anthropic and Gemini's
// `responseJsonSchema` carry it, plus Gemini's OpenAPI-style `responseSchema` (upper-case types,
// `nullable`, integers as strings).

export type JsonSchema = Record<string, unknown>;

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function asSchema(value: unknown): JsonSchema | null {
  if (value === true) return {};
  return isRecord(value) ? value : null;
}

export function schemaList(value: unknown): JsonSchema[] {
  return Array.isArray(value) ? value.map(asSchema).filter((s): s is JsonSchema => s !== null) : [];
}

/** A numeric keyword; Gemini sends int64 fields such as `minItems` as strings. */
export function numberKeyword(schema: JsonSchema, key: string): number | undefined {
  const value = schema[key];
  const n = typeof value === "string" ? Number(value) : value;
  return typeof n === "number" && Number.isFinite(n) ? n : undefined;
}

/** Declared types, lower-case, with `null` added for Gemini's `nullable: true`. Empty when untyped. */
export function schemaTypes(schema: JsonSchema): string[] {
  const raw = schema.type;
  const list = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw];
  const types = list.filter((t): t is string => typeof t === "string").map((t) => t.toLowerCase());
  if (schema.nullable === true && !types.includes("null")) types.push("null");
  return types.filter((t) => t !== "type_unspecified");
}

/** Resolves a local `$ref` (`#`, `#/$defs/x`, any JSON pointer into the root). */
export function resolveRef(root: JsonSchema, ref: string): JsonSchema | null {
  if (!ref.startsWith("#")) return null;
  const pointer = ref.slice(1);
  if (pointer === "" || pointer === "/") return root;
  let node: unknown = root;
  for (const raw of pointer.slice(1).split("/")) {
    const key = decodeURIComponent(raw).replaceAll("~1", "/").replaceAll("~0", "~");
    if (!isRecord(node) && !Array.isArray(node)) return null;
    node = (node as Record<string, unknown>)[key];
  }
  return asSchema(node);
}

/** Follows `$ref` chains (bounded, so that a cycle cannot loop). */
export function deref(root: JsonSchema, schema: JsonSchema): JsonSchema {
  let current = schema;
  for (let hops = 0; hops < 32 && typeof current.$ref === "string"; hops++) {
    const target = resolveRef(root, current.$ref);
    if (!target) break;
    const { $ref: _ref, ...siblings } = current;
    current = Object.keys(siblings).length > 0 ? { ...target, ...siblings } : target;
  }
  return current;
}
