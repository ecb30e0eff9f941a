import {
  asSchema,
  deref,
  isRecord,
  type JsonSchema,
  numberKeyword,
  schemaList,
  schemaTypes,
} from "./json-schema.ts";

const MAX_DEPTH = 16;

const FORMATS: Record<string, string> = {
  "date-time": "2025-01-01T00:00:00Z",
  date: "2025-01-01",
  time: "00:00:00Z",
  duration: "P1D",
  email: "user@example.com",
  "idn-email": "user@example.com",
  hostname: "example.com",
  "idn-hostname": "example.com",
  ipv4: "127.0.0.1",
  ipv6: "::1",
  uri: "https://example.com/",
  "uri-reference": "https://example.com/",
  iri: "https://example.com/",
  url: "https://example.com/",
  uuid: "00000000-0000-4000-8000-000000000000",
};

/**
 * A value that satisfies `schema`, the same on every call: objects get every declared property,
 * arrays one or two items (within minItems/maxItems), enums their first value, strings a phrase
 * from the property name (within length bounds and known formats), numbers a value within bounds,
 * booleans `true`; `anyOf`/`oneOf` take the first non-null branch, `$ref` is followed.
 * Not covered: `pattern`, `not`, `if/then`, dependent schemas.
 */
export function fakeValue(schema: JsonSchema): unknown {
  return generate(schema, schema, "value", 0);
}

function generate(root: JsonSchema, input: JsonSchema, name: string, depth: number): unknown {
  const schema = deref(root, input);
  if ("const" in schema) return schema.const;
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return schema.enum[0];

  const branches = [...schemaList(schema.anyOf), ...schemaList(schema.oneOf)];
  if (branches.length > 0) {
    const nonNull = branches.find((b) => !isNullOnly(deref(root, b)));
    return generate(root, nonNull ?? branches[0]!, name, depth);
  }
  const allOf = schemaList(schema.allOf);
  if (allOf.length > 0) return generate(root, mergeAll(root, schema, allOf), name, depth);

  const type = pickType(schema);
  if (depth >= MAX_DEPTH) return shallowValue(type);
  switch (type) {
    case "object":
      return generateObject(root, schema, depth);
    case "array":
      return generateArray(root, schema, name, depth);
    case "string":
      return generateString(schema, name);
    case "integer":
    case "number":
      return generateNumber(schema, type);
    case "boolean":
      return true;
    case "null":
      return null;
    default:
      return generateString(schema, name);
  }
}

function isNullOnly(schema: JsonSchema): boolean {
  const types = schemaTypes(schema);
  return (types.length === 1 && types[0] === "null") || schema.const === null;
}

function pickType(schema: JsonSchema): string {
  const types = schemaTypes(schema);
  const nonNull = types.find((t) => t !== "null");
  if (nonNull) return nonNull;
  if (types.length > 0) return "null";
  if (isRecord(schema.properties) || Array.isArray(schema.required)) return "object";
  if (schema.items !== undefined || schema.prefixItems !== undefined) return "array";
  return "string";
}

function shallowValue(type: string): unknown {
  if (type === "object") return {};
  if (type === "array") return [];
  if (type === "integer" || type === "number") return 0;
  if (type === "boolean") return false;
  if (type === "null") return null;
  return "";
}

function mergeAll(root: JsonSchema, base: JsonSchema, parts: JsonSchema[]): JsonSchema {
  const { allOf: _allOf, ...merged } = base;
  const properties: Record<string, unknown> = { ...(isRecord(merged.properties) ? merged.properties : {}) };
  const required = new Set<unknown>(Array.isArray(merged.required) ? merged.required : []);
  for (const part of parts.map((p) => deref(root, p))) {
    Object.assign(merged, part);
    if (isRecord(part.properties)) Object.assign(properties, part.properties);
    if (Array.isArray(part.required)) for (const key of part.required) required.add(key);
  }
  return { ...merged, properties, required: [...required] };
}

function generateObject(root: JsonSchema, schema: JsonSchema, depth: number): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  const properties = isRecord(schema.properties) ? schema.properties : {};
  for (const [key, value] of Object.entries(properties)) {
    result[key] = generate(root, asSchema(value) ?? {}, key, depth + 1);
  }
  // Required names without a declaration still have to be present.
  if (Array.isArray(schema.required)) {
    const extra = asSchema(schema.additionalProperties) ?? {};
    for (const key of schema.required) {
      if (typeof key === "string" && !(key in result)) result[key] = generate(root, extra, key, depth + 1);
    }
  }
  return result;
}

function generateArray(root: JsonSchema, schema: JsonSchema, name: string, depth: number): unknown[] {
  const prefix = schemaList(schema.prefixItems);
  const items = asSchema(schema.items) ?? (prefix.length > 0 ? null : {});
  const min = numberKeyword(schema, "minItems") ?? 0;
  const max = numberKeyword(schema, "maxItems") ?? Number.POSITIVE_INFINITY;
  const wanted = Math.max(prefix.length, depth < 4 ? 2 : 1);
  const count = Math.min(Math.max(wanted, min, 1), max, items ? Number.POSITIVE_INFINITY : prefix.length);
  const result: unknown[] = [];
  for (let i = 0; i < count; i++) {
    const itemSchema = prefix[i] ?? items ?? {};
    const resolved = deref(root, itemSchema);
    // Distinct enum values keep `uniqueItems` satisfied.
    if (Array.isArray(resolved.enum) && resolved.enum.length > i) {
      result.push(resolved.enum[i]);
    } else {
      result.push(generate(root, itemSchema, `${singular(name)} ${i + 1}`, depth + 1));
    }
  }
  return result;
}

function singular(name: string): string {
  return name.endsWith("s") && name.length > 3 ? name.slice(0, -1) : name;
}

function generateString(schema: JsonSchema, name: string): string {
  const format = typeof schema.format === "string" ? FORMATS[schema.format] : undefined;
  let text = format ?? `Example ${humanize(name)}`;
  const min = numberKeyword(schema, "minLength") ?? 0;
  const max = numberKeyword(schema, "maxLength");
  if (text.length < min) text = text.padEnd(min, ".");
  if (max !== undefined && text.length > max) text = text.slice(0, max);
  return text;
}

function humanize(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .replace(/[_-]+/g, " ")
    .trim()
    .toLowerCase();
}

function generateNumber(schema: JsonSchema, type: "integer" | "number"): number {
  const step = numberKeyword(schema, "multipleOf") ?? (type === "integer" ? 1 : undefined);
  const exclusiveMin = numberKeyword(schema, "exclusiveMinimum");
  const exclusiveMax = numberKeyword(schema, "exclusiveMaximum");
  let low = numberKeyword(schema, "minimum") ?? Number.NEGATIVE_INFINITY;
  let high = numberKeyword(schema, "maximum") ?? Number.POSITIVE_INFINITY;
  const nudge = step ?? 0.5;
  if (exclusiveMin !== undefined) low = Math.max(low, exclusiveMin + nudge);
  if (exclusiveMax !== undefined) high = Math.min(high, exclusiveMax - nudge);
  if (low > high) return (low + high) / 2; // a narrow exclusive range: its middle
  let value = Math.min(Math.max(1, low), high);
  if (step !== undefined) {
    value = Math.ceil(value / step) * step;
    if (value > high) value -= step;
  }
  return value;
}
