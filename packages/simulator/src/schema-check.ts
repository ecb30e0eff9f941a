import {
  asSchema,
  deref,
  isRecord,
  type JsonSchema,
  numberKeyword,
  schemaList,
  schemaTypes,
} from "./json-schema.ts";

/**
 * Where `value` breaks `schema`, as `path: problem` lines (empty when it conforms). Covers the
 * keywords structured-output schemas use: type (with `nullable`), const, enum, anyOf, oneOf,
 * allOf, $ref, properties, required, additionalProperties, items, prefixItems, min/maxItems,
 * min/maxLength, pattern, minimum/maximum and their exclusive forms. Formats are not checked.
 */
export function checkValue(schema: JsonSchema, value: unknown): string[] {
  const issues: string[] = [];
  check(schema, schema, value, "$", issues);
  return issues;
}

function check(root: JsonSchema, input: JsonSchema, value: unknown, path: string, issues: string[]): void {
  const schema = deref(root, input);
  if ("const" in schema && !sameJson(schema.const, value))
    issues.push(`${path}: expected ${json(schema.const)}`);
  if (Array.isArray(schema.enum) && !schema.enum.some((option) => sameJson(option, value))) {
    issues.push(`${path}: expected one of ${json(schema.enum)}`);
  }
  const anyOf = [...schemaList(schema.anyOf), ...schemaList(schema.oneOf)];
  if (anyOf.length > 0 && !anyOf.some((branch) => conforms(root, branch, value))) {
    issues.push(`${path}: matches no allowed alternative`);
  }
  for (const part of schemaList(schema.allOf)) check(root, part, value, path, issues);

  const types = schemaTypes(schema);
  if (types.length > 0 && !types.some((type) => hasType(value, type))) {
    issues.push(`${path}: expected ${types.join(" or ")}, got ${typeName(value)}`);
    return;
  }
  if (isRecord(value)) checkObject(root, schema, value, path, issues);
  else if (Array.isArray(value)) checkArray(root, schema, value, path, issues);
  else if (typeof value === "string") checkString(schema, value, path, issues);
  else if (typeof value === "number") checkNumber(schema, value, path, issues);
}

function conforms(root: JsonSchema, branch: JsonSchema, value: unknown): boolean {
  const issues: string[] = [];
  check(root, branch, value, "$", issues);
  return issues.length === 0;
}

function checkObject(
  root: JsonSchema,
  schema: JsonSchema,
  value: Record<string, unknown>,
  path: string,
  issues: string[],
): void {
  const properties = isRecord(schema.properties) ? schema.properties : {};
  if (Array.isArray(schema.required)) {
    for (const key of schema.required) {
      if (typeof key === "string" && !Object.hasOwn(value, key)) issues.push(`${path}.${key}: is required`);
    }
  }
  for (const [key, item] of Object.entries(value)) {
    const declared = asSchema(properties[key]);
    if (declared) check(root, declared, item, `${path}.${key}`, issues);
    else if (schema.additionalProperties === false) issues.push(`${path}.${key}: is not allowed`);
    else {
      const extra = asSchema(schema.additionalProperties);
      if (extra) check(root, extra, item, `${path}.${key}`, issues);
    }
  }
}

function checkArray(
  root: JsonSchema,
  schema: JsonSchema,
  value: unknown[],
  path: string,
  issues: string[],
): void {
  const min = numberKeyword(schema, "minItems");
  const max = numberKeyword(schema, "maxItems");
  if (min !== undefined && value.length < min) issues.push(`${path}: needs at least ${min} items`);
  if (max !== undefined && value.length > max) issues.push(`${path}: allows at most ${max} items`);
  const prefix = schemaList(schema.prefixItems);
  const items = asSchema(schema.items);
  value.forEach((item, i) => {
    const itemSchema = prefix[i] ?? items;
    if (itemSchema) check(root, itemSchema, item, `${path}[${i}]`, issues);
    else if (i >= prefix.length && prefix.length > 0 && schema.items === false) {
      issues.push(`${path}[${i}]: is not allowed`);
    }
  });
}

function checkString(schema: JsonSchema, value: string, path: string, issues: string[]): void {
  const min = numberKeyword(schema, "minLength");
  const max = numberKeyword(schema, "maxLength");
  if (min !== undefined && value.length < min) issues.push(`${path}: shorter than ${min}`);
  if (max !== undefined && value.length > max) issues.push(`${path}: longer than ${max}`);
  if (typeof schema.pattern === "string") {
    try {
      if (!new RegExp(schema.pattern, "u").test(value))
        issues.push(`${path}: does not match ${schema.pattern}`);
    } catch {
      // A pattern JavaScript cannot compile is not the answer's fault.
    }
  }
}

function checkNumber(schema: JsonSchema, value: number, path: string, issues: string[]): void {
  const minimum = numberKeyword(schema, "minimum");
  const maximum = numberKeyword(schema, "maximum");
  const exclusiveMin = numberKeyword(schema, "exclusiveMinimum");
  const exclusiveMax = numberKeyword(schema, "exclusiveMaximum");
  if (minimum !== undefined && value < minimum) issues.push(`${path}: below ${minimum}`);
  if (maximum !== undefined && value > maximum) issues.push(`${path}: above ${maximum}`);
  if (exclusiveMin !== undefined && value <= exclusiveMin) issues.push(`${path}: not above ${exclusiveMin}`);
  if (exclusiveMax !== undefined && value >= exclusiveMax) issues.push(`${path}: not below ${exclusiveMax}`);
}

function hasType(value: unknown, type: string): boolean {
  switch (type) {
    case "object":
      return isRecord(value);
    case "array":
      return Array.isArray(value);
    case "string":
      return typeof value === "string";
    case "number":
      return typeof value === "number" && Number.isFinite(value);
    case "integer":
      return Number.isInteger(value);
    case "boolean":
      return typeof value === "boolean";
    case "null":
      return value === null;
    default:
      return true;
  }
}

function typeName(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value;
}

function sameJson(a: unknown, b: unknown): boolean {
  return json(a) === json(b);
}

function json(value: unknown): string {
  return JSON.stringify(value) ?? "undefined";
}
