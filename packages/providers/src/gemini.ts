// Built on @google/genai, Google's maintained SDK. It replaces @google/generative-ai, which is
// deprecated and whose support ended in August 2025.
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
import { ApiError, GoogleGenAI } from "@google/genai";
import { z } from "zod";
import {
  assertApiKey,
  type ClassifiedError,
  callContext,
  DEFAULT_MAX_OUTPUT_TOKENS,
  parseAnswer,
  previousAnswerText,
  requestIdHeaders,
  timedCall,
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
    const ctx = callContext(PROVIDER, apiKey, request);
    const { response, latencyMs } = await timedCall(PROVIDER, ctx, classifyError, () =>
      client.models.generateContent({
        model: request.model,
        contents: [
          { role: "user", parts: [{ text: request.prompt }] },
          // A repair turn: the rejected answer as the model's own, then why it was rejected.
          ...(request.repair
            ? [
                { role: "model", parts: [{ text: previousAnswerText(request.repair.previousText) }] },
                { role: "user", parts: [{ text: repairInstruction(request.schemaName, request.repair) }] },
              ]
            : []),
        ],
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
          httpOptions: { timeout: ctx.timeoutMs, headers: requestIdHeaders(request.requestId) },
        },
      }),
    );

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
      .array(
        z.looseObject({
          "@type": z.string().optional(),
          retryDelay: z.string().optional(),
          // google.rpc.QuotaFailure: which quota ran out (e.g. "GenerateRequestsPerDayPerProjectPerModel").
          violations: z
            .array(z.looseObject({ quotaId: z.string().optional(), quotaMetric: z.string().optional() }))
            .optional(),
        }),
      )
      .optional(),
  }),
});

type ErrorBody = z.infer<typeof errorBodySchema>["error"];

// Billing words the Gemini API uses when no wait will help (prepaid credits, a spend cap) or a
// quota named as daily. Not "exceeded your current quota": Google says that of per-minute limits too.
const BILLING_WORDS = /credits? (?:are|is|have been) depleted|spend(?:ing)? cap|\bper day\b/i;

function parseErrorBody(message: string): ErrorBody | undefined {
  try {
    const parsed = errorBodySchema.safeParse(JSON.parse(message));
    return parsed.success ? parsed.data.error : undefined;
  } catch {
    return undefined;
  }
}

/** Reads google.rpc.RetryInfo's `retryDelay` (a protobuf Duration such as "37s" or "1.5s"). */
export function retryDelayMs(body: ErrorBody | undefined): number | undefined {
  for (const detail of body?.details ?? []) {
    if (detail["@type"] !== undefined && !detail["@type"].endsWith("google.rpc.RetryInfo")) continue;
    const match = /^(\d+(?:\.\d+)?)s$/.exec(detail.retryDelay ?? "");
    if (match?.[1]) return Math.ceil(Number(match[1]) * 1000);
  }
  return undefined;
}

/**
 * Why a 429 RESOURCE_EXHAUSTED is a used-up quota rather than a rate limit: a google.rpc.QuotaFailure
 * naming a per-day quota (its quotaId says `PerDay`), or a message saying credits are depleted, a
 * spend cap was reached or a daily limit was hit. A per-minute QuotaFailure stays a rate limit.
 */
export function quotaCause(status: number, body: ErrorBody | undefined): string | undefined {
  if (status !== 429 && body?.status !== "RESOURCE_EXHAUSTED") return undefined;
  for (const detail of body?.details ?? []) {
    if (!detail["@type"]?.endsWith("google.rpc.QuotaFailure")) continue;
    const daily = detail.violations?.find((v) => /PerDay/i.test(v.quotaId ?? ""));
    if (daily) return `per-day quota ${daily.quotaId}`;
  }
  const words = BILLING_WORDS.exec(body?.message ?? "");
  return words ? `"${words[0]}"` : undefined;
}

/** Classifies what @google/genai throws; an abort by our own signal is recognised before. */
function classifyError(error: unknown): ClassifiedError | undefined {
  // The SDK aborts its own per-attempt controller on timeout, so fetch (or the body read) fails
  // with an AbortError that our signal did not cause.
  if (error instanceof Error && (error.name === "AbortError" || error.name === "TimeoutError")) {
    return { kind: "timeout" };
  }
  if (error instanceof ApiError) {
    const body = parseErrorBody(error.message);
    const quota = quotaCause(error.status, body);
    return {
      kind: "http",
      status: error.status,
      statusText: body?.status,
      detail: body?.message ?? error.message,
      retryAfterMs: retryDelayMs(body),
      ...(quota === undefined ? {} : { quota }),
    };
  }
  // undici's fetch fails with TypeError("fetch failed") whose cause names the reason.
  if (error instanceof TypeError) return { kind: "network" };
  return undefined;
}
