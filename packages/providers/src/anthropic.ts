import Anthropic, { APIConnectionTimeoutError, APIError, APIUserAbortError } from "@anthropic-ai/sdk";
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
import { z } from "zod";
import {
  assertApiKey,
  callContext,
  DEFAULT_MAX_OUTPUT_TOKENS,
  DEFAULT_TIMEOUT_MS,
  parseAnswer,
  previousAnswerText,
  requestIdHeaders,
  timedCall,
} from "./shared.ts";
import { stainlessErrorClassifier } from "./stainless-error-classifier.ts";

const PROVIDER = "anthropic";
const DEFAULT_BASE_URL = "https://api.anthropic.com";
// The SDK reads the error body's `error.message` into `apiMessage`, `error.type` into `type` and
// `error.details.error_code` into `errorCode`.
const classifyError = stainlessErrorClassifier({
  APIError,
  APIUserAbortError,
  APIConnectionTimeoutError,
  apiMessage: (error: APIError) => error.apiMessage,
  quotaCause: billingCause,
});

// Error codes in `error.details` that mean the organization cannot be billed for more.
const BILLING_ERROR_CODES = new Set([
  "contract_spend_limit_reached",
  "enforced_spend_limit_reached",
  "linked_organization_spend_limit_reached",
  "linked_organization_billing_unavailable",
]);

/**
 * Why Anthropic will not bill this request, if that is what the error says: a `billing_error`
 * (402, or another status with that type), a spend-limit error code, or the 400/403 whose message
 * says the credit balance is too low or a usage limit was reached (the Messages API has long sent
 * those as `invalid_request_error`).
 */
export function billingCause(error: APIError): string | undefined {
  if (error.type === "billing_error") return "billing_error";
  if (error.status === 402) return "HTTP 402 payment required";
  if (error.errorCode && BILLING_ERROR_CODES.has(error.errorCode)) return error.errorCode;
  if (error.status !== 400 && error.status !== 403) return undefined;
  const message = error.apiMessage ?? "";
  if (/credit balance is too low/i.test(message)) return "credit balance too low";
  if (/reached your specified (?:workspace )?API usage limits/i.test(message))
    return "API usage limit reached";
  return undefined;
}

// The id of the rejected tool call a repair turn replays; any id of the API's shape will do.
const REPAIR_TOOL_USE_ID = "toolu_foundry_rejected_answer";

/**
 * The turns after the prompt in a repair request. A rejected tool call (its input an object) is
 * replayed as that `tool_use` answered by a `tool_result` with `is_error: true`, the Messages API's
 * way of telling the model its call failed and must be made again; any other rejected answer (text,
 * JSON cut short) goes back as an assistant text block followed by the same instruction.
 */
function repairTurns(request: GenerateRequest<unknown>): Anthropic.MessageParam[] {
  const { repair } = request;
  if (!repair) return [];
  const instruction = repairInstruction(request.schemaName, repair);
  const input = objectOrUndefined(repair.previousText);
  if (input) {
    return [
      {
        role: "assistant",
        content: [{ type: "tool_use", id: REPAIR_TOOL_USE_ID, name: request.schemaName, input }],
      },
      {
        role: "user",
        content: [
          { type: "tool_result", tool_use_id: REPAIR_TOOL_USE_ID, is_error: true, content: instruction },
        ],
      },
    ];
  }
  return [
    { role: "assistant", content: [{ type: "text", text: previousAnswerText(repair.previousText) }] },
    { role: "user", content: instruction },
  ];
}

const jsonObject = z.record(z.string(), z.unknown());

/** The JSON object `text` holds, or undefined (not JSON, or JSON of another kind). */
function objectOrUndefined(text: string): Record<string, unknown> | undefined {
  try {
    const parsed = jsonObject.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** Settings of the Anthropic adapter. */
export type AnthropicModelSettings = ProviderSettings;

/**
 * A `LanguageModel` on Anthropic's Messages API. Structured output is a forced tool call: one
 * tool named after the schema, `tool_choice` naming it, and the `tool_use` block's `input` is
 * the answer. The SDK's retries are off: the queue owns retries.
 *
 * @example
 * const model = createAnthropicModel({ apiKey: env.ANTHROPIC_API_KEY });
 * const { value } = await model.generate({ model: "claude-sonnet-5-5", prompt, schemaName: "backend_plan", schema });
 */
export function createAnthropicModel(settings: AnthropicModelSettings): LanguageModel {
  const { apiKey } = settings;
  assertApiKey(PROVIDER, apiKey);
  // Every option the SDK would otherwise read from process.env is given explicitly.
  const client = new Anthropic({
    apiKey,
    authToken: null,
    webhookKey: null,
    baseURL: settings.baseURL ?? DEFAULT_BASE_URL,
    maxRetries: 0,
    timeout: DEFAULT_TIMEOUT_MS,
  });

  async function generate<T>(request: GenerateRequest<T>): Promise<GenerateResult<T>> {
    const ctx = callContext(PROVIDER, apiKey, request);
    const inputSchema = toWireJsonSchema(request.schemaName, request.schema);
    const params: Anthropic.MessageCreateParamsNonStreaming = {
      model: request.model,
      max_tokens: request.maxOutputTokens ?? DEFAULT_MAX_OUTPUT_TOKENS,
      ...(request.system === undefined ? {} : { system: request.system }),
      messages: [{ role: "user", content: request.prompt }, ...repairTurns(request)],
      tools: [
        {
          name: request.schemaName,
          description: request.schema.description ?? `Return the answer as a ${request.schemaName} object.`,
          input_schema: { ...inputSchema, type: "object" },
        },
      ],
      tool_choice: { type: "tool", name: request.schemaName },
      ...(request.temperature === undefined ? {} : { temperature: request.temperature }),
    };

    const { response: message, latencyMs } = await timedCall(PROVIDER, ctx, classifyError, () =>
      client.messages.create(params, {
        signal: request.signal,
        timeout: ctx.timeoutMs,
        headers: requestIdHeaders(request.requestId),
      }),
    );

    // Anthropic counts cached prompt tokens apart from `input_tokens`; the other providers
    // include them in their prompt count, so they are added here for the same meaning.
    const u = message.usage;
    const usage: Usage = {
      inputTokens:
        (u?.input_tokens ?? 0) + (u?.cache_creation_input_tokens ?? 0) + (u?.cache_read_input_tokens ?? 0),
      outputTokens: u?.output_tokens ?? 0,
    };
    const toolUse = message.content.find(
      (block): block is Anthropic.ToolUseBlock =>
        block.type === "tool_use" && block.name === request.schemaName,
    );
    if (!toolUse) {
      const said = message.content.flatMap((block) => (block.type === "text" ? [block.text] : [])).join("\n");
      throw new ProviderError(
        `${PROVIDER} did not call the ${request.schemaName} tool (stop reason: ${message.stop_reason ?? "none"})`,
        { provider: PROVIDER, code: "malformed_output", text: said, usage },
      );
    }
    const text = JSON.stringify(toolUse.input) ?? "";
    const value = parseAnswer(PROVIDER, request.schema, text, usage, message.stop_reason === "max_tokens");
    return {
      value,
      text,
      usage,
      latencyMs,
      model: message.model || request.model,
      // The `request-id` header, else the message id.
      requestId: message._request_id ?? (message.id || undefined),
    };
  }

  return { provider: PROVIDER, generate };
}
