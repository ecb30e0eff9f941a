// Test support: the official SDKs pointed at a simulator, with their own retries off, and one
// structured call per provider written the way each SDK's documentation shows it.
import Anthropic from "@anthropic-ai/sdk";
import { GoogleGenAI } from "@google/genai";
import OpenAI from "openai";
import { z } from "zod";
import { SCRIPTED_SHAPES, type ScriptedName } from "../script/shapes.ts";
import type { SimProvider, Simulator } from "../types.ts";

export interface Clients {
  openai: OpenAI;
  anthropic: Anthropic;
  gemini: GoogleGenAI;
}

export function clientsFor(sim: Simulator, keys: Partial<Record<SimProvider, string>> = {}): Clients {
  const env = sim.env();
  return {
    openai: new OpenAI({
      baseURL: env.OPENAI_BASE_URL,
      apiKey: keys.openai ?? env.OPENAI_API_KEY,
      maxRetries: 0,
    }),
    anthropic: new Anthropic({
      baseURL: env.ANTHROPIC_BASE_URL,
      apiKey: keys.anthropic ?? env.ANTHROPIC_API_KEY,
      maxRetries: 0,
    }),
    // @google/genai retries only when httpOptions.retryOptions is set; it is not.
    gemini: new GoogleGenAI({
      apiKey: keys.gemini ?? env.GEMINI_API_KEY,
      httpOptions: { baseUrl: env.GEMINI_BASE_URL },
    }),
  };
}

/** The wire JSON Schema for a shape: draft 2020-12, `title` = name, no `$schema` (as OpenAI strict wants). */
export function wireSchema(name: string, shape: z.ZodType): Record<string, unknown> {
  const { $schema: _ignored, ...json } = z.toJSONSchema(shape, {
    target: "draft-2020-12",
    io: "output",
  }) as Record<string, unknown>;
  return { title: name, ...json };
}

export function scriptedWireSchema(name: ScriptedName): Record<string, unknown> {
  return wireSchema(name, SCRIPTED_SHAPES[name]);
}

export interface StructuredRequest {
  schemaName: string;
  schema: Record<string, unknown>;
  prompt: string;
  system?: string;
  signal?: AbortSignal;
}

export interface StructuredResult {
  /** The JSON text as the provider returned it (Anthropic tool input re-serialised). */
  text: string;
  /** The SDK's return value. */
  raw: unknown;
}

export const MODELS: Record<SimProvider, string> = {
  openai: "gpt-4.1",
  anthropic: "claude-sonnet-4-6",
  gemini: "gemini-2.5-pro",
};

/** One structured-output call through the provider's SDK. */
export async function structuredCall(
  clients: Clients,
  provider: SimProvider,
  request: StructuredRequest,
): Promise<StructuredResult> {
  const { schemaName, schema, prompt, system = "You are a careful assistant.", signal } = request;
  switch (provider) {
    case "openai": {
      const raw = await clients.openai.chat.completions.create(
        {
          model: MODELS.openai,
          messages: [
            { role: "system", content: system },
            { role: "user", content: prompt },
          ],
          response_format: { type: "json_schema", json_schema: { name: schemaName, schema, strict: true } },
        },
        { signal },
      );
      return { text: raw.choices[0]?.message.content ?? "", raw };
    }
    case "anthropic": {
      const raw = await clients.anthropic.messages.create(
        {
          model: MODELS.anthropic,
          max_tokens: 8192,
          system,
          messages: [{ role: "user", content: prompt }],
          tools: [{ name: schemaName, input_schema: schema as Anthropic.Tool.InputSchema }],
          tool_choice: { type: "tool", name: schemaName },
        },
        { signal },
      );
      const block = raw.content[0];
      const text =
        block?.type === "tool_use" ? JSON.stringify(block.input) : block?.type === "text" ? block.text : "";
      return { text, raw };
    }
    case "gemini": {
      const raw = await clients.gemini.models.generateContent({
        model: MODELS.gemini,
        contents: prompt,
        config: {
          systemInstruction: system,
          responseMimeType: "application/json",
          responseJsonSchema: schema,
          abortSignal: signal,
        },
      });
      return { text: raw.text ?? "", raw };
    }
  }
}

/** The HTTP status an SDK error carries (every SDK names it `status`). */
export function statusOf(error: unknown): number | undefined {
  const status = (error as { status?: unknown } | null)?.status;
  return typeof status === "number" ? status : undefined;
}

export async function caught(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected the call to fail");
}

export const ALL_PROVIDERS: SimProvider[] = ["openai", "anthropic", "gemini"];
