// What the scripted answers need from a prompt: the user's request and a title for the project.
// Prompts are written by the workflow, whose wording may change, so every reading is tolerant and
// falls back to a generic item-list app.

export interface ProjectBrief {
  /** The user's request as found in the prompt, or a generic one. */
  request: string;
  /** A short title, e.g. "Todo List App". */
  title: string;
  /** npm-style package name derived from the title. */
  slug: string;
}

const FALLBACK_REQUEST = "A simple list app for keeping track of items";
const VERBS = "build|create|make|write|develop|design|implement|generate";

/**
 * @param carryTitle use a `"title": "…"` found in the prompt (the requirements' title, which later
 *   phases receive) rather than deriving one from the request
 */
export function readBrief(prompt: string, carryTitle = true): ProjectBrief {
  const request = findRequest(prompt) ?? FALLBACK_REQUEST;
  const title = (carryTitle ? findJsonString(prompt, "title") : null) ?? titleFromRequest(request);
  return { request, title, slug: slugify(title) };
}

function findRequest(prompt: string): string | null {
  const fromJson = findJsonString(prompt, "request");
  if (fromJson) return fromJson;
  const labelled =
    /(?:^|\n)[ \t#*>-]*(?:the |original |user(?:'s)? |software |project )?request\b[^\n:]*:[ \t]*(.*)\n?([^\n]*)/i.exec(
      prompt,
    );
  if (labelled) {
    const line = clean(labelled[1] || labelled[2] || "");
    if (line.length > 2) return line;
  }
  const sentence = new RegExp(`\\b(?:${VERBS})\\b[^\\n.!?]{3,200}`, "i").exec(prompt);
  return sentence ? clean(sentence[0]) : null;
}

/** The first `"key": "value"` in the prompt, decoded. */
function findJsonString(prompt: string, key: string): string | null {
  const match = new RegExp(`"${key}"\\s*:\\s*("(?:[^"\\\\]|\\\\.)*")`).exec(prompt);
  if (!match) return null;
  try {
    const value = JSON.parse(match[1]!) as unknown;
    return typeof value === "string" && value.trim() !== "" ? clean(value) : null;
  } catch {
    return null;
  }
}

function clean(text: string): string {
  return text
    .trim()
    .replace(/^["'“”`]+|["'“”`]+$/g, "")
    .replace(/\s+/g, " ")
    .slice(0, 500);
}

export function titleFromRequest(request: string): string {
  const subject = request
    .replace(
      new RegExp(`^(?:please\\s+)?(?:(?:${VERBS})\\s+(?:me\\s+|us\\s+)?)?(?:(?:an?|the|my|our)\\s+)?`, "i"),
      "",
    )
    .split(/[.,;:!?(]|\s+(?:that|which|with|where|for|so|using)\s+/i)[0]!
    .trim();
  const words = (subject || "item list app").split(/\s+/).slice(0, 6);
  const title = words.map((word) => word.charAt(0).toUpperCase() + word.slice(1)).join(" ");
  return title.length > 60 ? title.slice(0, 60).trim() : title;
}

export function slugify(title: string): string {
  const slug = title
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 40)
    .replace(/-+$/, "");
  return slug || "app";
}
