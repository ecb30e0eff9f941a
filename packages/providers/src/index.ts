export { type AnthropicModelSettings, createAnthropicModel } from "./anthropic.ts";
export { type ProviderSettingsByName, providerSettingsFromEnv } from "./env.ts";
export { createModel, type ModelSettings } from "./factory.ts";
export { createGeminiModel, type GeminiModelSettings } from "./gemini.ts";
export {
  createOpenAIModel,
  type OpenAIModelSettings,
  STRUCTURED_OUTPUTS,
  type StructuredOutputs,
} from "./openai.ts";
export { ProviderSettingsError } from "./shared.ts";
