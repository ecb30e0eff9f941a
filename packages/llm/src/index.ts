export {
  codeForStatus,
  ProviderError,
  type ProviderErrorCode,
  type ProviderErrorOptions,
  parseRetryAfter,
} from "./errors.ts";
export { parseStructured, toWireJsonSchema } from "./structured.ts";
export {
  type GenerateRequest,
  type GenerateResult,
  type LanguageModel,
  PROVIDERS,
  type ProviderName,
  type ProviderSettings,
  type Usage,
} from "./types.ts";
