import { repairInstruction } from "./repair.ts";
import { wireJsonSchemaText } from "./structured.ts";
import type { GenerateRequest } from "./types.ts";

/** Output-token limit of one call when the request sets none. */
export const DEFAULT_MAX_OUTPUT_TOKENS = 8192;

/**
 * Tokens added to every estimate for what the adapters send besides the request's own texts: message
 * framing, Anthropic's tool name and description, the OpenAI JSON-mode instruction.
 */
export const ESTIMATE_FRAMING_TOKENS = 128;

/** What one request may use of a tokens-per-minute budget. */
export interface TokenEstimate {
  /** Input tokens: the texts sent (system, prompt, schema, repair turn) at four characters a token. */
  input: number;
  /** The most output tokens the request can be billed for: its `maxOutputTokens`. */
  maxOutput: number;
}

/**
 * A conservative estimate of the tokens a request uses, for tokens-per-minute limits taken before
 * the request is sent: input is the characters of the system prompt, prompt, wire schema (with its
 * description, which Anthropic's tool repeats) and repair turn divided by four, rounded up, plus
 * `ESTIMATE_FRAMING_TOKENS`; output is the request's whole `maxOutputTokens` (default 8192), which
 * the answer cannot exceed. Four characters a token is what the simulator counts and about what
 * English text costs; dense JSON or code can cost more per character on a real tokenizer, so
 * reserve `input + maxOutput` and leave headroom below a provider's real limit.
 *
 * @example
 * const { input, maxOutput } = estimateTokens(request);
 * await tokenBudget.take(input + maxOutput);
 */
export function estimateTokens(
  request: Pick<
    GenerateRequest<unknown>,
    "system" | "prompt" | "schemaName" | "schema" | "maxOutputTokens" | "repair"
  >,
): TokenEstimate {
  const schema = wireJsonSchemaText(request.schemaName, request.schema);
  let characters =
    (request.system?.length ?? 0) +
    request.prompt.length +
    schema.length +
    (request.schema.description?.length ?? 0);
  if (request.repair) {
    characters +=
      request.repair.previousText.length + repairInstruction(request.schemaName, request.repair).length;
  }
  return {
    input: Math.ceil(characters / 4) + ESTIMATE_FRAMING_TOKENS,
    maxOutput: request.maxOutputTokens ?? DEFAULT_MAX_OUTPUT_TOKENS,
  };
}
