import { ProviderError } from "./errors.ts";
import type { RepairInput } from "./types.ts";

/** How much of a rejected answer and of its error a repair turn carries, in UTF-16 code units. */
export const REPAIR_LIMITS = { previousTextChars: 8192, errorChars: 2048 } as const;

/**
 * The repair input for a call that failed because the model's answer was unusable
 * (`malformed_output` or `schema_violation`), or undefined for any other failure (a repair turn
 * cannot fix a rate limit or a bad key). The previous text is cut to 8 KB and the error to 2 KB, so
 * that a huge or runaway answer does not make the repair request huge too; both are made safe to
 * send (lone surrogates become U+FFFD, NUL characters are written as `\u0000`).
 *
 * @example
 * const repair = ProviderError.is(error) ? repairFromError(error) : undefined;
 * if (repair) await model.generate({ ...request, repair });
 */
export function repairFromError(error: ProviderError): RepairInput | undefined {
  if (!(error instanceof ProviderError)) return undefined;
  if (error.code !== "malformed_output" && error.code !== "schema_violation") return undefined;
  return toRepairInput(error.text ?? "", error.message);
}

/**
 * A repair input from a rejected answer and its error kept elsewhere (a journal row of an earlier
 * attempt), bounded and made safe to send as `repairFromError` does.
 */
export function toRepairInput(previousText: string, error: string): RepairInput {
  return {
    previousText: bounded(previousText, REPAIR_LIMITS.previousTextChars),
    error: bounded(error, REPAIR_LIMITS.errorChars),
  };
}

/**
 * The user turn that follows the rejected answer in a repair conversation; every adapter sends
 * this same text, so that it reads the same to each model.
 */
export function repairInstruction(schemaName: string, repair: RepairInput): string {
  return [
    `Your previous answer was rejected: ${repair.error}`,
    `Answer again with one corrected ${schemaName} that satisfies the output schema exactly: fix what the error names and keep the rest of your answer.`,
  ].join("\n\n");
}

/** Sent in place of an empty previous answer: providers refuse empty message content. */
export const EMPTY_ANSWER_PLACEHOLDER = "(no answer)";

/** `text` cut to at most `max` code units (the cut marked), never splitting a surrogate pair. */
function bounded(text: string, max: number): string {
  const safe = text.toWellFormed().replaceAll("\u0000", "\\u0000");
  if (safe.length <= max) return safe;
  const marker = `\n…[cut: ${safe.length} characters in all]`;
  let end = Math.max(0, max - marker.length);
  const last = safe.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  return `${safe.slice(0, end)}${marker}`;
}
