import type { z } from "zod";
import { describeIssues } from "./options.ts";

// Small helpers the three protocol readers share. They only deal with strings and zod results;
// nothing here knows a provider's format.

/** Text of a content field that is a string or a list of `{ type: "text", text }`-like parts. */
export function textOf(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content
    .map((part) => (part && typeof part === "object" && typeof part.text === "string" ? part.text : ""))
    .filter((text) => text !== "")
    .join("\n");
}

export function joinTexts(texts: string[]): string {
  return texts.filter((text) => text !== "").join("\n\n");
}

export function invalidBody(error: z.ZodError): { ok: false; message: string } {
  return { ok: false, message: `Invalid request body: ${describeIssues(error)}` };
}

/** `Authorization: Bearer <key>` → key. */
export function bearerToken(headers: Headers): string | null {
  const value = headers.get("authorization");
  const match = value ? /^Bearer\s+(.+)$/i.exec(value) : null;
  return match ? match[1]!.trim() : null;
}

/** "min" for a one-minute window (as providers name their limits), else e.g. "10s" or "250ms". */
export function windowName(windowMs: number): string {
  if (windowMs === 60_000) return "min";
  return windowMs % 1000 === 0 ? `${windowMs / 1000}s` : `${windowMs}ms`;
}

/** Whole seconds, at least 1, for "try again in Ns" texts. */
export function secondsOf(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}
