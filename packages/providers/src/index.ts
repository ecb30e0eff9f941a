export type { AnthropicModelSettings } from "./anthropic.ts";
export { type ProviderSettingsByName, providerSettingsFromEnv } from "./env.ts";
export { createModel, type ModelSettings } from "./factory.ts";
export type { GeminiModelSettings } from "./gemini.ts";
export type { OpenAIModelSettings } from "./openai.ts";
export { ProviderSettingsError, type StructuredOutputs } from "./shared.ts";
