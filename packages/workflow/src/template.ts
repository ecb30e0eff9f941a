// Prompt templates: `{{ request }}`, `{{ planning.backend }}`, `{{ comparison.comparison.disagreements }}`.
// A reference is a dotted path into the render context; objects and arrays render as indented JSON,
// so a model sees earlier phases' structured results verbatim. Nothing else is interpreted.

/** What templates see: the request and every finished phase's result (null when skipped). */
export type RunContext = Record<string, unknown> & { request: string };

/** One row of a vote phase's `tally` (`{{ voting.tally }}`): the votes on one disagreement. */
export interface TallyRow {
  disagreementId: string;
  topic: string;
  backend: number;
  frontend: number;
  leader: "backend" | "frontend" | "tie";
}

const REFERENCE = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)\s*\}\}/g;

/** The dotted paths a template refers to, in order of appearance. */
export function templateReferences(template: string): string[] {
  return Array.from(template.matchAll(REFERENCE), (match) => match[1] as string);
}

/** Reads a dotted path (`a.b.0.c`) from a plain value; undefined when any step is missing. */
export function readPath(context: unknown, path: string): unknown {
  let value: unknown = context;
  for (const key of path.split(".")) {
    if (value === null || typeof value !== "object") return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/**
 * Renders a template against a context. A missing or null value renders as `(none)`, because a
 * skipped phase is a normal outcome (e.g. no disagreements, so no resolution).
 */
export function renderTemplate(template: string, context: Record<string, unknown>): string {
  return template.replace(REFERENCE, (_match, path: string) => formatValue(readPath(context, path)));
}

function formatValue(value: unknown): string {
  if (value === undefined || value === null) return "(none)";
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return JSON.stringify(value, null, 2);
}
