import {
  type GenerateRequest,
  type GenerateResult,
  type LanguageModel,
  ProviderError,
  type ProviderSettings,
  repairInstruction,
  toWireJsonSchema,
  type Usage,
} from "@foundry/llm";
import OpenAI, { APIConnectionTimeoutError, APIError, APIUserAbortError } from "openai";
import type { ChatCompletionCreateParamsNonStreaming } from "openai/resources/chat/completions";
import {
  assertApiKey,
  callContext,
  DEFAULT_MAX_OUTPUT_TOKENS,
  DEFAULT_TIMEOUT_MS,
  excerpt,
  ProviderSettingsError,
  parseAnswer,
  previousAnswerText,
  requestIdHeaders,
  STRUCTURED_OUTPUTS,
  type StructuredOutputs,
  timedCall,
} from "./shared.ts";
import { stainlessErrorClassifier } from "./stainless-error-classifier.ts";

const PROVIDER = "openai";
const DEFAULT_BASE_URL = "https://api.openai.com/v1";
// A spent quota or credit is a 429 like a rate limit; its error `code` (and `type`) says
// `insufficient_quota`, and no wait lifts it.
const classifyError = stainlessErrorClassifier({
  APIError,
  APIUserAbortError,
  APIConnectionTimeoutError,
  quotaCause: (error: APIError) =>
    error.code === "insufficient_quota" || error.type === "insufficient_quota"
      ? "insufficient_quota"
      : undefined,
});

/** Settings of the OpenAI adapter. */
export interface OpenAIModelSettings extends ProviderSettings {
  /** OpenAI organization id, sent as `OpenAI-Organization`. */
  organization?: string;
  /**
   * The request field that carries the output-token limit. OpenAI's current models (and its
   * reasoning models, which reject `max_tokens`) read `max_completion_tokens`; some
   * OpenAI-compatible servers (Ollama) only read the older `max_tokens`.
   * @default "max_completion_tokens"
   */
  maxTokensField?: "max_completion_tokens" | "max_tokens";
  /**
   * How the output schema is enforced. `json_schema`: OpenAI's strict structured outputs.
   * `json_object`: JSON mode, for OpenAI-compatible servers without strict `json_schema` support;
   * the schema goes into the system prompt with an instruction to answer with one JSON object
   * matching it, and the answer is validated here as always.
   * @default "json_schema"
   */
  structuredOutputs?: StructuredOutputs;
}

/** The ways an OpenAI-compatible server can be asked for structured output. */

/** The system-prompt paragraph that carries the schema in JSON mode. */
export function jsonModeInstruction(schema: Record<string, unknown>): string {
  return `Answer with one JSON object that matches this JSON Schema, and nothing else:\n${JSON.stringify(schema)}`;
}

/**
 * A `LanguageModel` on OpenAI's Chat Completions API with strict structured outputs
 * (`response_format: json_schema`), or JSON mode (`structuredOutputs: "json_object"`). Works with
 * OpenAI-compatible servers (Ollama, vLLM, the simulator) through `baseURL`. The SDK's retries are
 * off: the queue owns retries.
 *
 * @example
 * const model = createOpenAIModel({ apiKey: env.OPENAI_API_KEY });
 * const { value } = await model.generate({ model: "gpt-4.1", prompt, schemaName: "vote", schema: voteSchema });
 */
export function createOpenAIModel(settings: OpenAIModelSettings): LanguageModel {
  const { apiKey } = settings;
  assertApiKey(PROVIDER, apiKey);
  const maxTokensField = settings.maxTokensField ?? "max_completion_tokens";
  const structuredOutputs = settings.structuredOutputs ?? "json_schema";
  if (!STRUCTURED_OUTPUTS.includes(structuredOutputs)) {
    throw new ProviderSettingsError(
      `${PROVIDER}: structuredOutputs must be one of ${STRUCTURED_OUTPUTS.join(", ")}, got ${JSON.stringify(structuredOutputs)}`,
    );
  }
  // Every option the SDK would otherwise read from process.env is given explicitly.
  const client = new OpenAI({
    apiKey,
    baseURL: settings.baseURL ?? DEFAULT_BASE_URL,
    organization: settings.organization ?? null,
    project: null,
    adminAPIKey: null,
    webhookSecret: null,
    maxRetries: 0,
    timeout: DEFAULT_TIMEOUT_MS,
  });

  async function generate<T>(request: GenerateRequest<T>): Promise<GenerateResult<T>> {
    const ctx = callContext(PROVIDER, apiKey, request);
    const maxTokens = request.maxOutputTokens ?? DEFAULT_MAX_OUTPUT_TOKENS;
    const schema = toWireJsonSchema(request.schemaName, request.schema);
    const jsonMode = structuredOutputs === "json_object";
    // JSON mode carries no schema: it travels in the system prompt (which also says "JSON", as
    // OpenAI requires of a json_object request).
    const system = jsonMode
      ? [request.system, jsonModeInstruction(schema)].filter((part) => part !== undefined).join("\n\n")
      : request.system;
    const body: ChatCompletionCreateParamsNonStreaming = {
      model: request.model,
      messages: [
        ...(system === undefined ? [] : [{ role: "system" as const, content: system }]),
        { role: "user", content: request.prompt },
        // A repair turn: the rejected answer as the model's own, then why it was rejected.
        ...(request.repair
          ? [
              { role: "assistant" as const, content: previousAnswerText(request.repair.previousText) },
              { role: "user" as const, content: repairInstruction(request.schemaName, request.repair) },
            ]
          : []),
      ],
      response_format: jsonMode
        ? { type: "json_object" }
        : { type: "json_schema", json_schema: { name: request.schemaName, schema, strict: true } },
      ...(maxTokensField === "max_tokens" ? { max_tokens: maxTokens } : { max_completion_tokens: maxTokens }),
      ...(request.temperature === undefined ? {} : { temperature: request.temperature }),
    };

    const { response: completion, latencyMs } = await timedCall(PROVIDER, ctx, classifyError, () =>
      client.chat.completions.create(body, {
        signal: request.signal,
        timeout: ctx.timeoutMs,
        // OpenAI logs X-Client-Request-Id with the request, for support and tracing.
        headers: requestIdHeaders(request.requestId, ["x-client-request-id"]),
      }),
    );

    const usage: Usage = {
      inputTokens: completion.usage?.prompt_tokens ?? 0,
      outputTokens: completion.usage?.completion_tokens ?? 0,
    };
    const choice = completion.choices[0];
    const message = choice?.message;
    if (message?.refusal) {
      throw new ProviderError(`${PROVIDER} refused to answer: ${excerpt(message.refusal, apiKey)}`, {
        provider: PROVIDER,
        code: "malformed_output",
        text: message.refusal,
        usage,
      });
    }
    const text = message?.content;
    if (typeof text !== "string") {
      throw new ProviderError(
        `${PROVIDER} returned no message content (finish reason: ${choice?.finish_reason ?? "none"})`,
        { provider: PROVIDER, code: "malformed_output", text: "", usage },
      );
    }
    const value = parseAnswer(PROVIDER, request.schema, text, usage, choice?.finish_reason === "length");
    return {
      value,
      text,
      usage,
      latencyMs,
      model: completion.model || request.model,
      // The `x-request-id` header; OpenAI-compatible servers may send none, then the completion id.
      requestId: completion._request_id ?? (completion.id || undefined),
    };
  }

  return { provider: PROVIDER, generate };
}
