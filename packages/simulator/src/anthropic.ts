import { z } from "zod";
import { conversationError, messageText } from "./anthropic-conversation.ts";
import type { JsonSchema } from "./json-schema.ts";
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
import { bearerToken, invalidBody, joinTexts, textOf, windowName } from "./wire.ts";

// Anthropic Messages (POST /v1/messages), as documented in the API reference and read by
// `@anthropic-ai/sdk`: structured output arrives either as a forced tool (`tools` plus
// `tool_choice: { type: "tool", name }`, answered with a `tool_use` block whose `input` is the
// object) or as `output_config.format` (`output_format` in the older beta), answered with a text
// block holding the JSON.

const schemaObject = z.record(z.string(), z.unknown());
const textBlocks = z.union([z.string(), z.array(z.looseObject({ type: z.string() }))]);
const jsonFormat = z.looseObject({ type: z.literal("json_schema"), schema: schemaObject });

const requestSchema = z.looseObject({
  model: z.string().min(1),
  stream: z.boolean().nullable().optional(),
  max_tokens: z.number().int().positive(),
  messages: z.array(z.looseObject({ role: z.enum(["user", "assistant"]), content: textBlocks })).min(1),
  system: textBlocks.optional(),
  tools: z
    .array(z.looseObject({ name: z.string().min(1), input_schema: schemaObject.optional() }))
    .optional(),
  tool_choice: z
    .looseObject({ type: z.enum(["auto", "any", "tool", "none"]), name: z.string().optional() })
    .optional(),
  output_config: z.looseObject({ format: jsonFormat.nullable().optional() }).optional(),
  output_format: jsonFormat.nullable().optional(),
});

export interface AnthropicCall extends ParsedCall {
  /** `tool`: answer with tool_use; `json`: a text block of JSON; `text`: free text. */
  mode: "tool" | "json" | "text";
}

const ERROR_TYPES: Record<SimError["kind"], string> = {
  invalid_request: "invalid_request_error",
  unauthorized: "authentication_error",
  not_found: "not_found_error",
  rate_limited: "rate_limit_error",
  server_error: "api_error",
  overloaded: "overloaded_error",
  quota_exceeded: "invalid_request_error",
};

// A spent credit balance is a 400 invalid_request_error with these words (the Messages API's
// long-standing answer); 402 (and a 403 on a billing hold) carries the `billing_error` type.
const CREDIT_TOO_LOW =
  "Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits.";
const BILLING_ISSUE = "There is an issue with your billing or payment information.";

export const anthropicProtocol: Protocol<AnthropicCall> = {
  provider: "anthropic",
  requestIdHeader: "request-id",

  newRequestId: () => `req_${randomId(24)}`,

  apiKey: (headers) => headers.get("x-api-key") ?? bearerToken(headers),

  parse(body): ParseResult<AnthropicCall> {
    const parsed = requestSchema.safeParse(body);
    if (!parsed.success) return invalidBody(parsed.error);
    const request = parsed.data;
    if (request.stream === true)
      return { ok: false, message: "The simulator does not stream; send stream: false." };
    const broken = conversationError(request.messages);
    if (broken) return { ok: false, message: broken };
    const promptText = joinTexts([
      textOf(request.system),
      ...request.messages.map((message) => messageText(message.content)),
    ]);
    const base = { model: request.model, promptText, maxOutputTokens: request.max_tokens };

    const choice = request.tool_choice;
    const tools = request.tools ?? [];
    if (choice?.type === "tool" || (choice?.type === "any" && tools.length > 0)) {
      const tool = choice.type === "tool" ? tools.find((t) => t.name === choice.name) : tools[0];
      if (!tool) {
        return { ok: false, message: `tool_choice names "${choice.name ?? ""}", which is not among tools` };
      }
      const schema: JsonSchema = tool.input_schema ?? { type: "object" };
      return {
        ok: true,
        call: {
          ...base,
          mode: "tool",
          schemaName: tool.name,
          schema,
          json: true,
          schemaText: JSON.stringify(tool),
        },
      };
    }
    const format = request.output_config?.format ?? request.output_format;
    if (format) {
      const title = typeof format.schema.title === "string" ? format.schema.title : null;
      return {
        ok: true,
        call: {
          ...base,
          mode: "json",
          schemaName: title,
          schema: format.schema,
          json: true,
          schemaText: JSON.stringify(format.schema),
        },
      };
    }
    return {
      ok: true,
      call: { ...base, mode: "text", schemaName: null, schema: null, json: false, schemaText: "" },
    };
  },

  success(call, content: AnswerContent, usage: Usage) {
    const toolUse = call.mode === "tool" && content.kind === "json";
    return {
      id: `msg_${randomId(24)}`,
      type: "message",
      role: "assistant",
      model: call.model,
      content: toolUse
        ? [{ type: "tool_use", id: `toolu_${randomId(24)}`, name: call.schemaName, input: content.value }]
        : [{ type: "text", text: content.text }],
      stop_reason: toolUse ? "tool_use" : "end_turn",
      stop_sequence: null,
      usage: {
        input_tokens: usage.inputTokens,
        output_tokens: usage.outputTokens,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 0,
        service_tier: "standard",
      },
    };
  },

  error(error, requestId) {
    return { type: "error", error: errorObject(error), request_id: requestId };
  },

  limitHeaders({ requests, tokens }: LimitHeaderStatus) {
    const at = (ms: number) => new Date(Date.now() + ms).toISOString();
    return {
      ...(requests && {
        "anthropic-ratelimit-requests-limit": String(requests.limit),
        "anthropic-ratelimit-requests-remaining": String(requests.remaining),
        "anthropic-ratelimit-requests-reset": at(requests.resetMs),
      }),
      ...(tokens && {
        "anthropic-ratelimit-tokens-limit": String(tokens.limit),
        "anthropic-ratelimit-tokens-remaining": String(tokens.remaining),
        "anthropic-ratelimit-tokens-reset": at(tokens.resetMs),
      }),
    };
  },
};

function errorObject(error: SimError): { type: string; message: string } {
  if (error.kind === "quota_exceeded") {
    return error.status === 400
      ? { type: "invalid_request_error", message: CREDIT_TOO_LOW }
      : { type: "billing_error", message: BILLING_ISSUE };
  }
  if (error.kind === "rate_limited" && error.limit) {
    const { dimension, max, windowMs } = error.limit;
    const what = dimension === "requests" ? "requests" : "tokens";
    return {
      type: "rate_limit_error",
      message: `This request would exceed the rate limit for your organization of ${max} ${what} per ${windowName(windowMs)}. For details, refer to: https://docs.claude.com/en/api/rate-limits. You can see the response headers for current usage. Please reduce the prompt length or the maximum tokens requested, or try again later.`,
    };
  }
  return { type: ERROR_TYPES[error.kind], message: error.message };
}
