import {
  codeForStatus,
  type GenerateRequest,
  type GenerateResult,
  type LanguageModel,
  ProviderError,
  type ProviderSettings,
  parseRetryAfter,
  toWireJsonSchema,
  type Usage,
} from "@foundry/llm";
import OpenAI, { APIConnectionTimeoutError, APIError, APIUserAbortError } from "openai";
import type { ChatCompletionCreateParamsNonStreaming } from "openai/resources/chat/completions";
import {
  assertApiKey,
  assertSchemaName,
  DEFAULT_MAX_OUTPUT_TOKENS,
  DEFAULT_TIMEOUT_MS,
  elapsedMs,
  excerpt,
  parseAnswer,
  rootMessage,
  safeCause,
  timeoutOf,
} from "./shared.ts";

const PROVIDER = "openai";
const DEFAULT_BASE_URL = "https://api.openai.com/v1";

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
    assertSchemaName(PROVIDER, request.schemaName);
    const timeout = timeoutOf(PROVIDER, request.timeoutMs);
    const maxTokens = request.maxOutputTokens ?? DEFAULT_MAX_OUTPUT_TOKENS;
    const body: ChatCompletionCreateParamsNonStreaming = {
      model: request.model,
      messages: [
        ...(request.system === undefined ? [] : [{ role: "system" as const, content: request.system }]),
        { role: "user", content: request.prompt },
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

    const start = performance.now();
    let completion: OpenAI.ChatCompletion & { _request_id?: string | null };
    try {
      completion = await client.chat.completions.create(body, { signal: request.signal, timeout });
    } catch (error) {
      throw toProviderError(error, { apiKey, timeoutMs: timeout, signal: request.signal });
    }
    const latencyMs = elapsedMs(start);

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

/** Maps anything the OpenAI SDK throws to a ProviderError whose message is free of the key. */
function toProviderError(
  error: unknown,
  { apiKey, timeoutMs, signal }: { apiKey: string; timeoutMs: number; signal: AbortSignal | undefined },
): ProviderError {
  const cause = safeCause(error, apiKey);
  if (error instanceof APIUserAbortError || signal?.aborted) {
    return new ProviderError(`${PROVIDER} request was aborted`, {
      provider: PROVIDER,
      code: "aborted",
      cause,
    });
  }
  if (error instanceof APIConnectionTimeoutError) {
    return new ProviderError(`${PROVIDER} request timed out after ${timeoutMs} ms`, {
      provider: PROVIDER,
      code: "timeout",
      cause,
    });
  }
  if (error instanceof APIError && error.status !== undefined) {
    const code = codeForStatus(error.status);
    // The SDK's message is "<status> <body message>".
    const detail = excerpt(error.message.replace(/^\d{3} /, ""), apiKey);
    return new ProviderError(`${PROVIDER} answered HTTP ${error.status}: ${detail}`, {
      provider: PROVIDER,
      code,
      status: error.status,
      retryAfterMs:
        code === "rate_limited" || code === "server_error"
          ? parseRetryAfter(error.headers?.get("retry-after"), error.headers?.get("retry-after-ms"))
          : undefined,
      cause,
    });
  }
  if (error instanceof APIError) {
    // APIConnectionError: no HTTP answer (refused, reset, DNS).
    return new ProviderError(`${PROVIDER} connection failed: ${rootMessage(error, apiKey)}`, {
      provider: PROVIDER,
      code: "network",
      cause,
    });
  }
  if (error instanceof SyntaxError) {
    return new ProviderError(`${PROVIDER} sent a response body that is not JSON`, {
      provider: PROVIDER,
      code: "malformed_output",
      cause,
    });
  }
  const message = excerpt(error instanceof Error ? error.message : String(error), apiKey);
  return new ProviderError(`${PROVIDER} request failed: ${message}`, {
    provider: PROVIDER,
    code: "unknown",
    cause,
  });
}
