// Built on @google/genai, Google's maintained SDK. It replaces @google/generative-ai, which is
// deprecated and whose support ended in August 2025.
import {
  codeForStatus,
  type GenerateRequest,
  type GenerateResult,
  type LanguageModel,
  ProviderError,
  type ProviderSettings,
  toWireJsonSchema,
  type Usage,
} from "@foundry/llm";
import { ApiError, type GenerateContentResponse, GoogleGenAI } from "@google/genai";
import { z } from "zod";
import {
  assertApiKey,
  assertSchemaName,
  DEFAULT_MAX_OUTPUT_TOKENS,
  elapsedMs,
  excerpt,
  parseAnswer,
  rootMessage,
  safeCause,
  timeoutOf,
} from "./shared.ts";

const PROVIDER = "gemini";
const DEFAULT_BASE_URL = "https://generativelanguage.googleapis.com";
const API_VERSION = "v1beta";

/** Settings of the Gemini adapter. */
export type GeminiModelSettings = ProviderSettings;

/**
 * A `LanguageModel` on the Gemini API (`models.generateContent`) with JSON output constrained by
 * `responseJsonSchema` (the schema's `title` is the schema name). One `generate` is one HTTP
 * request: the SDK's retries and its automatic continuation are off; the queue owns retries.
 *
 * @example
 * const model = createGeminiModel({ apiKey: env.GEMINI_API_KEY });
 * const { value } = await model.generate({ model: "gemini-2.5-pro", prompt, schemaName: "frontend_plan", schema });
 */
export function createGeminiModel(settings: GeminiModelSettings): LanguageModel {
  const { apiKey } = settings;
  assertApiKey(PROVIDER, apiKey);
  // Every option the SDK would otherwise read from process.env is given explicitly.
  // @google/genai 3.3 retries only when `httpOptions.retryOptions` is set (p-retry, 5 attempts by
  // default); `attempts: 1` states "no retries" so that a later default cannot turn them on.
  const client = new GoogleGenAI({
    apiKey,
    vertexai: false,
    apiVersion: API_VERSION,
    httpOptions: {
      baseUrl: settings.baseURL ?? DEFAULT_BASE_URL,
      apiVersion: API_VERSION,
      retryOptions: { attempts: 1 },
    },
  });

  async function generate<T>(request: GenerateRequest<T>): Promise<GenerateResult<T>> {
    assertSchemaName(PROVIDER, request.schemaName);
    const timeout = timeoutOf(PROVIDER, request.timeoutMs);
    const start = performance.now();
    let response: GenerateContentResponse;
    try {
      response = await client.models.generateContent({
        model: request.model,
        contents: [{ role: "user", parts: [{ text: request.prompt }] }],
        config: {
          ...(request.system === undefined ? {} : { systemInstruction: request.system }),
          responseMimeType: "application/json",
          responseJsonSchema: toWireJsonSchema(request.schemaName, request.schema),
          maxOutputTokens: request.maxOutputTokens ?? DEFAULT_MAX_OUTPUT_TOKENS,
          ...(request.temperature === undefined ? {} : { temperature: request.temperature }),
          // A "continuation" would send further requests for one answer, each billed and
          // invisible to the call journal.
          automaticContinuation: false,
          abortSignal: request.signal,
          // Per request: the SDK arms it around the fetch and the body read, and sends it to the
          // server as X-Server-Timeout.
          httpOptions: { timeout },
        },
      });
    } catch (error) {
      throw toProviderError(error, { apiKey, timeoutMs: timeout, signal: request.signal });
    }
    const latencyMs = elapsedMs(start);

    const meta = response.usageMetadata;
    const usage: Usage = {
      inputTokens: meta?.promptTokenCount ?? 0,
      // Thinking tokens are billed as output.
      outputTokens: (meta?.candidatesTokenCount ?? 0) + (meta?.thoughtsTokenCount ?? 0),
    };
    const blocked = response.promptFeedback?.blockReason;
    if (blocked) {
      throw new ProviderError(`${PROVIDER} blocked the prompt (${blocked})`, {
        provider: PROVIDER,
        code: "bad_request",
        usage,
      });
    }
    const candidate = response.candidates?.[0];
    const text = (candidate?.content?.parts ?? [])
      .flatMap((part) => (typeof part.text === "string" && !part.thought ? [part.text] : []))
      .join("");
    if (!text) {
      throw new ProviderError(
        `${PROVIDER} returned no text (finish reason: ${candidate?.finishReason ?? "none"})`,
        { provider: PROVIDER, code: "malformed_output", text, usage },
      );
    }
    const value = parseAnswer(
      PROVIDER,
      request.schema,
      text,
      usage,
      candidate?.finishReason === "MAX_TOKENS",
    );
    const headers = response.sdkHttpResponse?.headers;
    return {
      value,
      text,
      usage,
      latencyMs,
      model: response.modelVersion || request.model,
      requestId: headers?.["x-request-id"] ?? (response.responseId || undefined),
    };
  }

  return { provider: PROVIDER, generate };
}

// The SDK's ApiError keeps no headers: its message is the JSON error body, whose `details` may
// hold a google.rpc.RetryInfo with `retryDelay` ("37s").
const errorBodySchema = z.object({
  error: z.object({
    message: z.string().optional(),
    status: z.string().optional(),
    details: z
      .array(z.looseObject({ "@type": z.string().optional(), retryDelay: z.string().optional() }))
      .optional(),
  }),
});

function parseErrorBody(message: string): z.infer<typeof errorBodySchema>["error"] | undefined {
  try {
    const parsed = errorBodySchema.safeParse(JSON.parse(message));
    return parsed.success ? parsed.data.error : undefined;
  } catch {
    return undefined;
  }
}

/** Reads google.rpc.RetryInfo's `retryDelay` (a protobuf Duration such as "37s" or "1.5s"). */
export function retryDelayMs(body: z.infer<typeof errorBodySchema>["error"] | undefined): number | undefined {
  for (const detail of body?.details ?? []) {
    if (detail["@type"] !== undefined && !detail["@type"].endsWith("google.rpc.RetryInfo")) continue;
    const match = /^(\d+(?:\.\d+)?)s$/.exec(detail.retryDelay ?? "");
    if (match?.[1]) return Math.ceil(Number(match[1]) * 1000);
  }
  return undefined;
}

/** Maps anything @google/genai throws to a ProviderError whose message is free of the key. */
function toProviderError(
  error: unknown,
  { apiKey, timeoutMs, signal }: { apiKey: string; timeoutMs: number; signal: AbortSignal | undefined },
): ProviderError {
  const cause = safeCause(error, apiKey);
  if (signal?.aborted) {
    return new ProviderError(`${PROVIDER} request was aborted`, {
      provider: PROVIDER,
      code: "aborted",
      cause,
    });
  }
  // The SDK aborts its own per-attempt controller on timeout, so fetch (or the body read) fails
  // with an AbortError that our signal did not cause.
  if (error instanceof Error && (error.name === "AbortError" || error.name === "TimeoutError")) {
    return new ProviderError(`${PROVIDER} request timed out after ${timeoutMs} ms`, {
      provider: PROVIDER,
      code: "timeout",
      cause,
    });
  }
  if (error instanceof ApiError) {
    const code = codeForStatus(error.status);
    const body = parseErrorBody(error.message);
    const detail = excerpt(body?.message ?? error.message, apiKey);
    return new ProviderError(
      `${PROVIDER} answered HTTP ${error.status}${body?.status ? ` ${body.status}` : ""}: ${detail}`,
      {
        provider: PROVIDER,
        code,
        status: error.status,
        retryAfterMs: code === "rate_limited" || code === "server_error" ? retryDelayMs(body) : undefined,
        cause,
      },
    );
  }
  // undici's fetch fails with TypeError("fetch failed") whose cause names the reason.
  if (error instanceof TypeError) {
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
