/**
 * The JSON objects embedded in free text (a prompt that quotes earlier answers), outermost first.
 * Scans for balanced braces outside string literals, so braces inside strings do not confuse it;
 * a segment that does not parse is skipped one character at a time.
 */
export function jsonObjectsIn(text: string): Record<string, unknown>[] {
  const found: Record<string, unknown>[] = [];
  let index = text.indexOf("{");
  while (index !== -1) {
    const end = matchingBrace(text, index);
    let next = index + 1;
    if (end !== -1) {
      try {
        const value: unknown = JSON.parse(text.slice(index, end + 1));
        collectObjects(value, found);
        next = end + 1;
      } catch {
        // Not JSON (prose with braces): look for an object further in.
      }
    }
    index = text.indexOf("{", next);
  }
  return found;
}

export function matchingBrace(text: string, start: number): number {
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const char = text[i];
    if (inString) {
      if (char === "\\") i++;
      else if (char === '"') inString = false;
    } else if (char === '"') {
      inString = true;
    } else if (char === "{") {
      depth++;
    } else if (char === "}") {
      depth--;
      if (depth === 0) return i;
    }
  }
  return -1;
}

function collectObjects(value: unknown, into: Record<string, unknown>[]): void {
  if (Array.isArray(value)) {
    for (const item of value) collectObjects(item, into);
  } else if (typeof value === "object" && value !== null) {
    into.push(value as Record<string, unknown>);
    for (const item of Object.values(value)) collectObjects(item, into);
  }
}
