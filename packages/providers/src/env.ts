import type { ProviderName } from "@foundry/llm";
import type { AnthropicModelSettings } from "./anthropic.ts";
import type { GeminiModelSettings } from "./gemini.ts";
import type { OpenAIModelSettings } from "./openai.ts";
import { ProviderSettingsError, STRUCTURED_OUTPUTS, type StructuredOutputs } from "./shared.ts";

/** The environment variables each provider's settings are read from, in order of preference. */
const VARIABLES = {
  openai: { apiKey: ["OPENAI_API_KEY"], baseURL: "OPENAI_BASE_URL" },
  anthropic: { apiKey: ["ANTHROPIC_API_KEY"], baseURL: "ANTHROPIC_BASE_URL" },
  gemini: { apiKey: ["GEMINI_API_KEY", "GOOGLE_API_KEY"], baseURL: "GEMINI_BASE_URL" },
} as const satisfies Record<ProviderName, { apiKey: readonly string[]; baseURL: string }>;

/** Each provider's settings, as `providerSettingsFromEnv` reads them. */
export interface ProviderSettingsByName {
  openai?: OpenAIModelSettings;
  anthropic?: AnthropicModelSettings;
  gemini?: GeminiModelSettings;
}

/**
 * Provider settings from an environment object (the caller passes it: packages never read
 * `process.env`). A provider is present only when its API key is set; empty values count as
 * unset. `GOOGLE_API_KEY` is accepted for Gemini when `GEMINI_API_KEY` is absent.
 * `OPENAI_STRUCTURED_OUTPUTS` (`json_schema`, the default, or `json_object`) chooses OpenAI's
 * structured-output mode, for OpenAI-compatible servers without strict `json_schema`.
 *
 * @throws ProviderSettingsError naming the variable when a value is not one of those allowed
 * @example
 * const settings = providerSettingsFromEnv(process.env); // in an app's config module
 * if (settings.openai) createModel("openai", settings.openai);
 */
export function providerSettingsFromEnv(env: Record<string, string | undefined>): ProviderSettingsByName {
  const structuredOutputs = structuredOutputsFrom(env.OPENAI_STRUCTURED_OUTPUTS);
  const settings: ProviderSettingsByName = {};
  for (const [provider, names] of Object.entries(VARIABLES) as [
    ProviderName,
    (typeof VARIABLES)[ProviderName],
  ][]) {
    const apiKey = names.apiKey.map((name) => env[name]?.trim()).find((value) => value);
    if (!apiKey) continue;
    const baseURL = env[names.baseURL]?.trim();
    settings[provider] = baseURL ? { apiKey, baseURL } : { apiKey };
  }
  if (settings.openai && structuredOutputs) settings.openai.structuredOutputs = structuredOutputs;
  return settings;
}

function structuredOutputsFrom(raw: string | undefined): StructuredOutputs | undefined {
  const value = raw?.trim();
  if (!value) return undefined;
  if ((STRUCTURED_OUTPUTS as readonly string[]).includes(value)) return value as StructuredOutputs;
  throw new ProviderSettingsError(
    `OPENAI_STRUCTURED_OUTPUTS must be one of ${STRUCTURED_OUTPUTS.join(", ")}, got ${JSON.stringify(value)}`,
  );
}
