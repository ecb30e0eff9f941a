import { z } from "zod";
import type { JsonSchema } from "./json-schema.ts";
import type { AnswerContent, ParsedCall, ParseResult, Protocol, SimError, Usage } from "./protocol.ts";
import { randomId } from "./random.ts";
import { invalidBody, joinTexts, textOf } from "./wire.ts";

// Gemini API generateContent (POST /{version}/models/{model}:generateContent), as documented in the
// API reference and sent by `@google/genai`: structured output arrives as
// generationConfig.responseJsonSchema (or the OpenAPI-style responseSchema) with responseMimeType
// application/json; the schema name travels as the schema's `title`. The key comes in the
// `x-goog-api-key` header or the `key` query parameter.

const schemaObject = z.record(z.string(), z.unknown());
const content = z.looseObject({ role: z.string().optional(), parts: z.array(z.looseObject({})).optional() });

const requestSchema = z.looseObject({
  contents: z.array(content).min(1),
  systemInstruction: content.optional(),
  system_instruction: content.optional(),
  generationConfig: z
    .looseObject({
      responseMimeType: z.string().optional(),
      responseJsonSchema: schemaObject.optional(),
      responseSchema: schemaObject.optional(),
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

function errorDetails(error: SimError): unknown[] {
  if (error.kind === "rate_limited" && error.retryAfterMs !== undefined) {
    return [
      {
        "@type": "type.googleapis.com/google.rpc.RetryInfo",
        retryDelay: `${Math.ceil(error.retryAfterMs / 1000)}s`,
      },
    ];
  }
  if (error.kind === "unauthorized") {
    return [
      {
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        reason: "API_KEY_INVALID",
        domain: "googleapis.com",
        metadata: { service: "generativelanguage.googleapis.com" },
      },
    ];
  }
  return [];
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
    return {
      error: {
        code: error.status,
        message: error.message,
        status: statusName(error.status),
        details: errorDetails(error),
      },
    };
  },

  // The Gemini API sends no rate-limit headers.
  limitHeaders: () => ({}),
};
