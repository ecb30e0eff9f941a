import type { ProviderName, ProviderSettings } from "@foundry/llm";

/** The environment variables each provider's settings are read from, in order of preference. */
const VARIABLES = {
  openai: { apiKey: ["OPENAI_API_KEY"], baseURL: "OPENAI_BASE_URL" },
  anthropic: { apiKey: ["ANTHROPIC_API_KEY"], baseURL: "ANTHROPIC_BASE_URL" },
  gemini: { apiKey: ["GEMINI_API_KEY", "GOOGLE_API_KEY"], baseURL: "GEMINI_BASE_URL" },
} as const satisfies Record<ProviderName, { apiKey: readonly string[]; baseURL: string }>;

/**
 * Provider settings from an environment object (the caller passes it: packages never read
 * `process.env`). A provider is present only when its API key is set; empty values count as
 * unset. `GOOGLE_API_KEY` is accepted for Gemini when `GEMINI_API_KEY` is absent.
 *
 * @example
 * const settings = providerSettingsFromEnv(process.env); // in an app's config module
 * if (settings.openai) createModel("openai", settings.openai);
 */
export function providerSettingsFromEnv(
  env: Record<string, string | undefined>,
): Partial<Record<ProviderName, ProviderSettings>> {
  const settings: Partial<Record<ProviderName, ProviderSettings>> = {};
  for (const [provider, names] of Object.entries(VARIABLES) as [
    ProviderName,
    (typeof VARIABLES)[ProviderName],
  ][]) {
    const apiKey = names.apiKey.map((name) => env[name]?.trim()).find((value) => value);
    if (!apiKey) continue;
    const baseURL = env[names.baseURL]?.trim();
    settings[provider] = baseURL ? { apiKey, baseURL } : { apiKey };
  }
  return settings;
}
