import { z } from "zod";
import type {
  AnswerContent,
  LimitHeaderStatus,
  ParsedCall,
  ParseResult,
  Protocol,
  SimError,
  Usage,
} from "./protocol.ts";
import { randomId } from "./random.ts";
import { findSchemaIn } from "./schema-in-prompt.ts";
import { bearerToken, invalidBody, joinTexts, secondsOf, textOf, windowName } from "./wire.ts";

// OpenAI Chat Completions (POST /v1/chat/completions), as documented in the API reference and read
// by the `openai` SDK: structured output arrives as response_format json_schema; the answer is a
// chat.completion whose message content is the JSON text.

const schemaObject = z.record(z.string(), z.unknown());

const requestSchema = z.looseObject({
  model: z.string().min(1),
  stream: z.boolean().nullable().optional(),
  max_completion_tokens: z.number().int().positive().nullable().optional(),
  max_tokens: z.number().int().positive().nullable().optional(),
  messages: z
    .array(
      z.looseObject({
        role: z.enum(["system", "developer", "user", "assistant", "tool", "function"]),
        content: z.union([z.string(), z.array(z.looseObject({ type: z.string() })), z.null()]).optional(),
      }),
    )
    .min(1),
  response_format: z
    .discriminatedUnion("type", [
      z.looseObject({
        type: z.literal("json_schema"),
        json_schema: z.looseObject({ name: z.string().min(1), schema: schemaObject.optional() }),
      }),
      z.looseObject({ type: z.literal("json_object") }),
      z.looseObject({ type: z.literal("text") }),
    ])
    .optional(),
});

export type OpenAICall = ParsedCall;

const ERROR_TYPES: Record<SimError["kind"], { type: string; code: string | null }> = {
  invalid_request: { type: "invalid_request_error", code: null },
  unauthorized: { type: "invalid_request_error", code: "invalid_api_key" },
  not_found: { type: "invalid_request_error", code: "unknown_url" },
  rate_limited: { type: "requests", code: "rate_limit_exceeded" },
  server_error: { type: "server_error", code: null },
  overloaded: { type: "server_error", code: "server_overloaded" },
  quota_exceeded: { type: "insufficient_quota", code: "insufficient_quota" },
};

// OpenAI's words for a spent quota or credit: the same 429 as a rate limit, told apart by type/code.
const QUOTA_MESSAGE =
  "You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.";

export const openaiProtocol: Protocol<OpenAICall> = {
  provider: "openai",
  requestIdHeader: "x-request-id",

  newRequestId: () => `req_${randomId(32, "hex")}`,

  apiKey: (headers) => bearerToken(headers),

  parse(body): ParseResult<OpenAICall> {
    const parsed = requestSchema.safeParse(body);
    if (!parsed.success) return invalidBody(parsed.error);
    const request = parsed.data;
    if (request.stream === true)
      return { ok: false, message: "The simulator does not stream; send stream: false." };
    const format = request.response_format;
    const texts = request.messages.map((message) => textOf(message.content));
    const base = {
      model: request.model,
      json: format !== undefined && format.type !== "text",
      maxOutputTokens: request.max_completion_tokens ?? request.max_tokens ?? null,
    };
    if (format?.type === "json_schema") {
      const schema = format.json_schema.schema ?? {};
      return {
        ok: true,
        call: {
          ...base,
          schemaName: format.json_schema.name,
          schema,
          promptText: joinTexts(texts),
          schemaText: JSON.stringify(schema),
        },
      };
    }
    if (format?.type === "json_object") {
      if (!texts.some((text) => /json/i.test(text))) {
        return {
          ok: false,
          message:
            "'messages' must contain the word 'json' in some form, to use 'response_format' of type 'json_object'.",
        };
      }
      const found = schemaInMessages(
        request.messages.map((m) => m.role),
        texts,
      );
      if (found) return { ok: true, call: { ...base, ...found } };
    }
    return {
      ok: true,
      call: { ...base, schemaName: null, schema: null, promptText: joinTexts(texts), schemaText: "" },
    };
  },

  success(call, content: AnswerContent, usage: Usage) {
    return {
      id: `chatcmpl-${randomId(29)}`,
      object: "chat.completion",
      created: Math.floor(Date.now() / 1000),
      model: call.model,
      choices: [
        {
          index: 0,
          message: { role: "assistant", content: content.text, refusal: null, annotations: [] },
          logprobs: null,
          finish_reason: "stop",
        },
      ],
      usage: {
        prompt_tokens: usage.inputTokens,
        completion_tokens: usage.outputTokens,
        total_tokens: usage.inputTokens + usage.outputTokens,
        prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
        completion_tokens_details: {
          reasoning_tokens: 0,
          audio_tokens: 0,
          accepted_prediction_tokens: 0,
          rejected_prediction_tokens: 0,
        },
      },
      service_tier: "default",
      system_fingerprint: "fp_simulator",
    };
  },

  error(error) {
    if (error.kind === "rate_limited" && error.limit) {
      return { error: { ...rateLimitText(error), param: null, code: "rate_limit_exceeded" } };
    }
    const { type, code } = ERROR_TYPES[error.kind];
    const message = error.kind === "quota_exceeded" ? QUOTA_MESSAGE : error.message;
    return { error: { message, type, param: null, code } };
  },

  limitHeaders({ requests, tokens }: LimitHeaderStatus) {
    return {
      ...(requests && {
        "x-ratelimit-limit-requests": String(requests.limit),
        "x-ratelimit-remaining-requests": String(requests.remaining),
        "x-ratelimit-reset-requests": `${requests.resetMs}ms`,
      }),
      ...(tokens && {
        "x-ratelimit-limit-tokens": String(tokens.limit),
        "x-ratelimit-remaining-tokens": String(tokens.remaining),
        "x-ratelimit-reset-tokens": `${tokens.resetMs}ms`,
      }),
    };
  },
};

/**
 * JSON mode's schema, read from the prompt as a model would: the first object schema in the system
 * (or developer) messages, else in the others. It counts as schema tokens, and is left out of the
 * prompt text the scripted answers read (its `title` would pass for a project title).
 */
function schemaInMessages(
  roles: string[],
  texts: string[],
): Pick<ParsedCall, "schemaName" | "schema" | "promptText" | "schemaText"> | null {
  const order = texts
    .map((_, i) => i)
    .sort((a, b) => Number(isInstruction(roles[b])) - Number(isInstruction(roles[a])));
  for (const i of order) {
    const found = findSchemaIn(texts[i]!);
    if (!found) continue;
    const text = texts[i]!;
    const rest = texts.map((t, j) => (j === i ? text.slice(0, found.start) + text.slice(found.end) : t));
    return {
      schemaName: found.name,
      schema: found.schema,
      promptText: joinTexts(rest),
      schemaText: text.slice(found.start, found.end),
    };
  }
  return null;
}

function isInstruction(role: string | undefined): boolean {
  return role === "system" || role === "developer";
}

/** The 429 text OpenAI sends for a request or token limit; its `type` names the limit. */
function rateLimitText(error: SimError): { message: string; type: string } {
  const { dimension, max, windowMs, used, requested } = error.limit!;
  const unit = dimension === "requests" ? "RPM" : "TPM";
  const on = `${error.model ?? "the model"} in organization org-simulator on ${dimension} per ${windowName(windowMs)} (${unit})`;
  const more = "Visit https://platform.openai.com/account/rate-limits to learn more.";
  const message =
    error.retryAfterMs === undefined
      ? `Request too large for ${on}: Limit ${max}, Requested ${requested}. The input or output tokens must be reduced in order to run successfully. ${more}`
      : `Rate limit reached for ${on}: Limit ${max}, Used ${used}, Requested ${requested}. Please try again in ${secondsOf(error.retryAfterMs)}s. ${more}`;
  return { message, type: dimension };
}

/** GET /v1/models: the models the simulator answers for (it accepts any model id). */
export function openaiModelList(): unknown {
  const created = 1_700_000_000;
  return {
    object: "list",
    data: ["gpt-4.1", "gpt-4.1-mini", "gpt-4o", "gpt-4o-mini", "o4-mini"].map((id) => ({
      id,
      object: "model",
      created,
      owned_by: "foundry-simulator",
    })),
  };
}
