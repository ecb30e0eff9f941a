import type { LanguageModel, ProviderName } from "@foundry/llm";
import { type AnthropicModelSettings, createAnthropicModel } from "./anthropic.ts";
import { createGeminiModel, type GeminiModelSettings } from "./gemini.ts";
import { createOpenAIModel, type OpenAIModelSettings } from "./openai.ts";

/** Any adapter's settings; each adapter reads its own options and the shared ones. */
export type ModelSettings = OpenAIModelSettings | AnthropicModelSettings | GeminiModelSettings;

/**
 * The adapter for `provider`, on that provider's official SDK.
 *
 * @example
 * const settings = providerSettingsFromEnv(env);
 * const model = createModel("anthropic", settings.anthropic!);
 */
export function createModel(provider: ProviderName, settings: ModelSettings): LanguageModel {
  switch (provider) {
    case "openai":
      return createOpenAIModel(settings);
    case "anthropic":
      return createAnthropicModel(settings);
    case "gemini":
      return createGeminiModel(settings);
    default: {
      const unknown: never = provider;
      throw new TypeError(`unknown provider ${JSON.stringify(unknown)}`);
    }
  }
}
