import type { LanguageModel, ProviderName } from "@foundry/llm";
import type { AnthropicModelSettings } from "./anthropic.ts";
import type { GeminiModelSettings } from "./gemini.ts";
import type { OpenAIModelSettings } from "./openai.ts";

/** Any adapter's settings; each adapter reads its own options and the shared ones. */
export type ModelSettings = OpenAIModelSettings | AnthropicModelSettings | GeminiModelSettings;

/**
 * The adapter for `provider`, on that provider's official SDK. The SDK is loaded here, on first
 * use, so a process that serves no provider queue (the orchestrator, the API) never loads one and
 * a provider worker loads only the SDKs of the queues it consumes (each SDK is 25–35 MB of RSS).
 *
 * @example
 * const settings = providerSettingsFromEnv(env);
 * const model = await createModel("anthropic", settings.anthropic!);
 */
export async function createModel(provider: ProviderName, settings: ModelSettings): Promise<LanguageModel> {
  switch (provider) {
    case "openai":
      return (await import("./openai.ts")).createOpenAIModel(settings);
    case "anthropic":
      return (await import("./anthropic.ts")).createAnthropicModel(settings);
    case "gemini":
      return (await import("./gemini.ts")).createGeminiModel(settings);
    default: {
      const unknown: never = provider;
      throw new TypeError(`unknown provider ${JSON.stringify(unknown)}`);
    }
  }
}
