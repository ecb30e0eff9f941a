import { describe, expect, it } from "vitest";
import { providerSettingsFromEnv } from "./env.ts";
import { createModel } from "./factory.ts";
import { ProviderSettingsError } from "./shared.ts";

describe("providerSettingsFromEnv", () => {
  it("reads each provider's key and base URL", () => {
    expect(
      providerSettingsFromEnv({
        OPENAI_API_KEY: "o-key",
        OPENAI_BASE_URL: "http://localhost:11434/v1",
        ANTHROPIC_API_KEY: "a-key",
        GEMINI_API_KEY: "g-key",
        GEMINI_BASE_URL: "http://sim/gemini",
      }),
    ).toEqual({
      openai: { apiKey: "o-key", baseURL: "http://localhost:11434/v1" },
      anthropic: { apiKey: "a-key" },
      gemini: { apiKey: "g-key", baseURL: "http://sim/gemini" },
    });
  });

  it("leaves out a provider without a key, and treats empty values as unset", () => {
    expect(
      providerSettingsFromEnv({ OPENAI_API_KEY: "", ANTHROPIC_BASE_URL: "http://x", GEMINI_API_KEY: " " }),
    ).toEqual({});
  });

  it("accepts GOOGLE_API_KEY for Gemini, preferring GEMINI_API_KEY", () => {
    expect(providerSettingsFromEnv({ GOOGLE_API_KEY: "google" })).toEqual({ gemini: { apiKey: "google" } });
    expect(providerSettingsFromEnv({ GOOGLE_API_KEY: "google", GEMINI_API_KEY: "gemini" })).toEqual({
      gemini: { apiKey: "gemini" },
    });
  });
});

describe("OPENAI_STRUCTURED_OUTPUTS", () => {
  it("chooses OpenAI's JSON mode; json_schema and an empty value are the default", () => {
    expect(
      providerSettingsFromEnv({ OPENAI_API_KEY: "o", OPENAI_STRUCTURED_OUTPUTS: "json_object" }),
    ).toEqual({
      openai: { apiKey: "o", structuredOutputs: "json_object" },
    });
    expect(
      providerSettingsFromEnv({ OPENAI_API_KEY: "o", OPENAI_STRUCTURED_OUTPUTS: " json_schema " }),
    ).toEqual({
      openai: { apiKey: "o", structuredOutputs: "json_schema" },
    });
    expect(providerSettingsFromEnv({ OPENAI_API_KEY: "o", OPENAI_STRUCTURED_OUTPUTS: "" })).toEqual({
      openai: { apiKey: "o" },
    });
  });

  it("refuses another value with an error naming the variable, even without an OpenAI key", () => {
    for (const env of [
      { OPENAI_API_KEY: "o", OPENAI_STRUCTURED_OUTPUTS: "json" },
      { OPENAI_STRUCTURED_OUTPUTS: "JSON_OBJECT" },
    ]) {
      expect(() => providerSettingsFromEnv(env)).toThrow(ProviderSettingsError);
      expect(() => providerSettingsFromEnv(env)).toThrow(
        /^OPENAI_STRUCTURED_OUTPUTS must be one of json_schema, json_object, got "(json|JSON_OBJECT)"$/,
      );
    }
  });
});

describe("createModel", () => {
  it("returns the adapter of the named provider", async () => {
    for (const provider of ["openai", "anthropic", "gemini"] as const) {
      expect((await createModel(provider, { apiKey: "k", baseURL: "http://127.0.0.1:1" })).provider).toBe(
        provider,
      );
    }
  });

  it("refuses a missing key when the model is created", async () => {
    for (const provider of ["openai", "anthropic", "gemini"] as const) {
      await expect(createModel(provider, { apiKey: "" })).rejects.toThrow(
        expect.objectContaining({ name: "ProviderError", code: "auth", provider }),
      );
    }
  });

  it("refuses an unknown provider", async () => {
    await expect(createModel("mistral" as never, { apiKey: "k" })).rejects.toThrow(
      /unknown provider "mistral"/,
    );
  });
});
