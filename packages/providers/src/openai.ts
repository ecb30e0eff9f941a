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
  parseAnswer,
  previousAnswerText,
  requestIdHeaders,
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
}

/**
 * A `LanguageModel` on OpenAI's Chat Completions API with strict structured outputs
 * (`response_format: json_schema`). Works with OpenAI-compatible servers (Ollama, vLLM, the
 * simulator) through `baseURL`. The SDK's retries are off: the queue owns retries.
 *
 * @example
 * const model = createOpenAIModel({ apiKey: env.OPENAI_API_KEY });
 * const { value } = await model.generate({ model: "gpt-4.1", prompt, schemaName: "vote", schema: voteSchema });
 */
export function createOpenAIModel(settings: OpenAIModelSettings): LanguageModel {
  const { apiKey } = settings;
  assertApiKey(PROVIDER, apiKey);
  const maxTokensField = settings.maxTokensField ?? "max_completion_tokens";
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
    const body: ChatCompletionCreateParamsNonStreaming = {
      model: request.model,
      messages: [
        ...(request.system === undefined ? [] : [{ role: "system" as const, content: request.system }]),
        { role: "user", content: request.prompt },
        // A repair turn: the rejected answer as the model's own, then why it was rejected.
        ...(request.repair
          ? [
              { role: "assistant" as const, content: previousAnswerText(request.repair.previousText) },
              { role: "user" as const, content: repairInstruction(request.schemaName, request.repair) },
            ]
          : []),
      ],
      response_format: {
        type: "json_schema",
        json_schema: {
          name: request.schemaName,
          schema: toWireJsonSchema(request.schemaName, request.schema),
          strict: true,
        },
      },
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
