export {
  codeForStatus,
  ProviderError,
  type ProviderErrorCode,
  type ProviderErrorOptions,
  parseRetryAfter,
} from "./errors.ts";
export {
  DEFAULT_MAX_OUTPUT_TOKENS,
  ESTIMATE_FRAMING_TOKENS,
  estimateTokens,
  type TokenEstimate,
} from "./estimate.ts";
export { EMPTY_ANSWER_PLACEHOLDER, repairFromError, repairInstruction, toRepairInput } from "./repair.ts";
export { parseStructured, toWireJsonSchema } from "./structured.ts";
export {
  type GenerateRequest,
  type GenerateResult,
  type LanguageModel,
  PROVIDERS,
  type ProviderName,
  type ProviderSettings,
  type RepairInput,
  type Usage,
} from "./types.ts";
