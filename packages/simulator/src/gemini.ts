import { z } from "zod";
import type { JsonSchema } from "./json-schema.ts";
import type { AnswerContent, ParsedCall, ParseResult, Protocol, SimError, Usage } from "./protocol.ts";
import { randomId } from "./random.ts";
import { invalidBody, joinTexts, secondsOf, textOf } from "./wire.ts";

// Gemini API generateContent (POST /{version}/models/{model}:generateContent), as documented in the
// API reference and sent by `@google/genai`: structured output arrives as
// generationConfig.responseJsonSchema (or the OpenAPI-style responseSchema) with responseMimeType
// application/json; the schema name travels as the schema's `title`. The key comes in the
// `x-goog-api-key` header or the `key` query parameter.

const schemaObject = z.record(z.string(), z.unknown());
const content = z.looseObject({ role: z.string().optional(), parts: z.array(z.looseObject({})).optional() });
// A turn of the conversation is the user's or the model's ("Please use a valid role: user, model.").
const turn = content.extend({ role: z.enum(["user", "model"]).optional() });

const requestSchema = z.looseObject({
  contents: z.array(turn).min(1),
  systemInstruction: content.optional(),
  system_instruction: content.optional(),
  generationConfig: z
    .looseObject({
      responseMimeType: z.string().optional(),
      responseJsonSchema: schemaObject.optional(),
      responseSchema: schemaObject.optional(),
      maxOutputTokens: z.number().int().positive().optional(),
    })
    .optional(),
});

export type GeminiCall = ParsedCall;

/** google.rpc.Code names by HTTP status, as the API puts them in `error.status`. */
const STATUS_NAMES: Record<number, string> = {
  400: "INVALID_ARGUMENT",
  401: "UNAUTHENTICATED",
  403: "PERMISSION_DENIED",
  404: "NOT_FOUND",
  409: "ABORTED",
  429: "RESOURCE_EXHAUSTED",
  499: "CANCELLED",
  500: "INTERNAL",
  501: "UNIMPLEMENTED",
  503: "UNAVAILABLE",
  504: "DEADLINE_EXCEEDED",
};

function statusName(status: number): string {
  return STATUS_NAMES[status] ?? (status >= 500 ? "UNKNOWN" : "FAILED_PRECONDITION");
}

const RETRY_INFO = "type.googleapis.com/google.rpc.RetryInfo";
const QUOTA_FAILURE = "type.googleapis.com/google.rpc.QuotaFailure";
const METRICS = {
  requests: "generativelanguage.googleapis.com/generate_content_requests",
  tokens: "generativelanguage.googleapis.com/generate_content_input_token_count",
};

// The Gemini API says "You exceeded your current quota" for a per-minute limit and a per-day quota
// alike; only the google.rpc.QuotaFailure's quotaId tells a wait of seconds from one of a day.
const QUOTA_WORDS =
  "You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.";

interface Violation {
  metric: string;
  quotaId: string;
  model: string;
  value?: number;
}

/** The 429 body's message and details for a per-minute limit or a per-day quota. */
function exhausted(error: SimError, violation: Violation): { message: string; details: unknown[] } {
  const retry =
    error.retryAfterMs === undefined
      ? []
      : [{ "@type": RETRY_INFO, retryDelay: `${secondsOf(error.retryAfterMs)}s` }];
  const limit = violation.value === undefined ? "" : `, limit: ${violation.value}`;
  const lines = [
    QUOTA_WORDS,
    `* Quota exceeded for metric: ${violation.metric}${limit}, model: ${violation.model}`,
    ...(error.retryAfterMs === undefined ? [] : [`Please retry in ${secondsOf(error.retryAfterMs)}s.`]),
  ];
  return {
    message: lines.join("\n"),
    details: [
      {
        "@type": QUOTA_FAILURE,
        violations: [
          {
            quotaMetric: violation.metric,
            quotaId: violation.quotaId,
            quotaDimensions: { location: "global", model: violation.model },
            ...(violation.value === undefined ? {} : { quotaValue: String(violation.value) }),
          },
        ],
      },
      {
        "@type": "type.googleapis.com/google.rpc.Help",
        links: [
          {
            description: "Learn more about Gemini API quotas",
            url: "https://ai.google.dev/gemini-api/docs/rate-limits",
          },
        ],
      },
      ...retry,
    ],
  };
}

function messageAndDetails(error: SimError): { message: string; details: unknown[] } {
  const model = error.model ?? "unknown";
  if (error.kind === "quota_exceeded") {
    return exhausted(error, {
      metric: METRICS.requests,
      quotaId: "GenerateRequestsPerDayPerProjectPerModel",
      model,
    });
  }
  if (error.kind === "rate_limited") {
    const tokens = error.limit?.dimension === "tokens";
    return exhausted(error, {
      metric: tokens ? METRICS.tokens : METRICS.requests,
      quotaId: tokens
        ? "GenerateContentInputTokensPerModelPerMinute"
        : "GenerateRequestsPerMinutePerProjectPerModel",
      model,
      value: error.limit?.max,
    });
  }
  if (error.kind === "unauthorized") {
    return {
      message: error.message,
      details: [
        {
          "@type": "type.googleapis.com/google.rpc.ErrorInfo",
          reason: "API_KEY_INVALID",
          domain: "googleapis.com",
          metadata: { service: "generativelanguage.googleapis.com" },
        },
      ],
    };
  }
  return { message: error.message, details: [] };
}

export const geminiProtocol: Protocol<GeminiCall> = {
  provider: "gemini",
  // The id travels in the body as `responseId`, not in a header.
  requestIdHeader: null,

  newRequestId: () => randomId(22),

  apiKey: (headers, url) => headers.get("x-goog-api-key") ?? url.searchParams.get("key"),

  parse(body, pathModel): ParseResult<GeminiCall> {
    const parsed = requestSchema.safeParse(body);
    if (!parsed.success) return invalidBody(parsed.error);
    const request = parsed.data;
    const config = request.generationConfig;
    const schema: JsonSchema | null = config?.responseJsonSchema ?? config?.responseSchema ?? null;
    const system = request.systemInstruction ?? request.system_instruction;
    return {
      ok: true,
      call: {
        model: pathModel ?? "unknown",
        schemaName: schema && typeof schema.title === "string" ? schema.title : null,
        schema,
        json: schema !== null || config?.responseMimeType === "application/json",
        promptText: joinTexts([
          textOf(system?.parts),
          ...request.contents.map((entry) => textOf(entry.parts)),
        ]),
        schemaText: schema ? JSON.stringify(schema) : "",
        maxOutputTokens: config?.maxOutputTokens ?? null,
      },
    };
  },

  success(call, answer: AnswerContent, usage: Usage, requestId) {
    return {
      candidates: [
        {
          content: { parts: [{ text: answer.text }], role: "model" },
          finishReason: "STOP",
          index: 0,
        },
      ],
      usageMetadata: {
        promptTokenCount: usage.inputTokens,
        candidatesTokenCount: usage.outputTokens,
        totalTokenCount: usage.inputTokens + usage.outputTokens,
        promptTokensDetails: [{ modality: "TEXT", tokenCount: usage.inputTokens }],
      },
      modelVersion: call.model,
      responseId: requestId,
    };
  },

  error(error) {
    const { message, details } = messageAndDetails(error);
    return { error: { code: error.status, message, status: statusName(error.status), details } };
  },

  // The Gemini API sends no rate-limit headers.
  limitHeaders: () => ({}),
};
