import type { z } from "zod";

/** The providers the system ships adapters for. */
export const PROVIDERS = ["openai", "anthropic", "gemini"] as const;
export type ProviderName = (typeof PROVIDERS)[number];

/** Token usage as the provider reported it. */
export interface Usage {
  inputTokens: number;
  outputTokens: number;
}

/** One structured-output request. */
export interface GenerateRequest<T> {
  /** Provider model id, e.g. `gpt-4.1`, `claude-sonnet-4-5`, `gemini-2.5-pro`. */
  model: string;
  /** Instructions that frame the task (OpenAI system message, Anthropic `system`, Gemini `systemInstruction`). */
  system?: string;
  /** The user turn. */
  prompt: string;
  /**
   * Name of the output schema; sent on the wire (OpenAI `json_schema.name`, Anthropic tool name,
   * Gemini schema `title`). Letters, digits, `_` and `-` only.
   */
  schemaName: string;
  /** The output contract. The parsed answer is validated against it. */
  schema: z.ZodType<T>;
  /** @default 8192 (`DEFAULT_MAX_OUTPUT_TOKENS`) */
  maxOutputTokens?: number;
  /** @default provider default */
  temperature?: number;
  /** Aborts the HTTP request (e.g. when the job's lock is lost). */
  signal?: AbortSignal;
  /** Per-request timeout in milliseconds. @default 120000 */
  timeoutMs?: number;
  /**
   * Our id for this request (e.g. `<idempotency key>#<attempt>`), sent as the `X-Foundry-Request-Id`
   * header (and OpenAI's `X-Client-Request-Id`) so that a request seen by a provider, a proxy or the
   * simulator can be matched with the journal row that paid for it. ASCII, at most 200 characters.
   */
  requestId?: string;
  /**
   * Makes this a repair turn: the adapter sends the prompt, then `previousText` as the model's own
   * answer, then a user turn saying that answer was rejected with `error` and asking for a
   * corrected one that satisfies the schema. Build it with `repairFromError`, which bounds its size.
   */
  repair?: RepairInput;
}

/** The rejected answer a repair turn shows the model, and why it was rejected. */
export interface RepairInput {
  /** The model's previous answer, as received (JSON, or the text it sent instead). */
  previousText: string;
  /** The validation error, in words the model can act on. */
  error: string;
}

/** A validated answer with what it cost. */
export interface GenerateResult<T> {
  value: T;
  /** The raw text the model produced (JSON), as received. */
  text: string;
  usage: Usage;
  latencyMs: number;
  /** The model that answered, as the provider reports it. */
  model: string;
  /** Provider request id when the provider sends one. */
  requestId?: string;
}

/** A provider's model behind one interface; the engine never imports an SDK. */
export interface LanguageModel {
  readonly provider: ProviderName;
  generate<T>(request: GenerateRequest<T>): Promise<GenerateResult<T>>;
}

/** Connection settings shared by all adapters. */
export interface ProviderSettings {
  apiKey: string;
  /** Overrides the SDK's default endpoint (OpenAI-compatible servers, the simulator). */
  baseURL?: string;
}
