import type { LanguageModel, ProviderName, ProviderSettings } from "@foundry/llm";
import { createAnthropicModel } from "./anthropic.ts";
import { createGeminiModel } from "./gemini.ts";
import { createOpenAIModel } from "./openai.ts";

/**
 * The adapter for `provider`, on that provider's official SDK.
 *
 * @example
 * const settings = providerSettingsFromEnv(env);
 * const model = createModel("anthropic", settings.anthropic!);
 */
export function createModel(provider: ProviderName, settings: ProviderSettings): LanguageModel {
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
