export { type AnthropicModelSettings, createAnthropicModel } from "./anthropic.ts";
export { providerSettingsFromEnv } from "./env.ts";
export { createModel } from "./factory.ts";
export { createGeminiModel, type GeminiModelSettings } from "./gemini.ts";
export { createOpenAIModel, type OpenAIModelSettings } from "./openai.ts";
