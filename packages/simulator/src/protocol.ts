import type { JsonSchema } from "./json-schema.ts";
import type { LimitStatus } from "./limiter.ts";
import type { SimProvider } from "./types.ts";

/** What a provider request asks for, read from its own wire format. */
export interface ParsedCall {
  model: string;
  /** OpenAI `json_schema.name`, Anthropic forced tool name, or the schema's `title`. */
  schemaName: string | null;
  /** The JSON schema the answer must satisfy; null for a free-text request. */
  schema: JsonSchema | null;
  /** True when the answer must be JSON (a schema, or a bare JSON mode). */
  json: boolean;
  /** Every text of the request (system and messages), joined by blank lines. */
  promptText: string;
  /** The tool or schema JSON, counted as input tokens as providers do. */
  schemaText: string;
  /** The request's output-token limit, reserved against a token limit; null when it sets none. */
  maxOutputTokens: number | null;
}

export type ParseResult<Call extends ParsedCall> = { ok: true; call: Call } | { ok: false; message: string };

/** The answer body: a JSON value to send as the structured output, or plain text in its place. */
export type AnswerContent = { kind: "json"; value: unknown; text: string } | { kind: "text"; text: string };

export type SimErrorKind =
  | "invalid_request"
  | "unauthorized"
  | "not_found"
  | "rate_limited"
  | "server_error"
  | "overloaded"
  | "quota_exceeded";

/** The simulator's own limit that refused a request, for error texts that name it. */
export interface LimitHit {
  dimension: "requests" | "tokens";
  max: number;
  windowMs: number;
  /** Counted in the window when the request arrived. */
  used: number;
  /** What this request needed (1 request, or its tokens). */
  requested: number;
}

/** A failure to render in the provider's error format. */
export interface SimError {
  status: number;
  kind: SimErrorKind;
  message: string;
  /** For 429s: sent as `retry-after` (seconds, rounded up) and `retry-after-ms`. */
  retryAfterMs?: number;
  /** The model the request named (filled in by the exchange), for texts that name it. */
  model?: string | null;
  /** For the simulator's own 429s: which limit refused the request. */
  limit?: LimitHit;
}

/** The state of a provider's request and token limits, for its rate-limit headers. */
export interface LimitHeaderStatus {
  requests: LimitStatus | null;
  tokens: LimitStatus | null;
}

export interface Usage {
  inputTokens: number;
  outputTokens: number;
}

/** One provider's wire format. Each implementation reads only its own provider's documentation. */
export interface Protocol<Call extends ParsedCall> {
  readonly provider: SimProvider;
  /** Response header that carries the request id, if the provider sends one. */
  readonly requestIdHeader: string | null;
  newRequestId(): string;
  /** The API key the request presents, or null. */
  apiKey(headers: Headers, url: URL): string | null;
  /** Reads a generation request; `pathModel` is the model named in the URL (Gemini). */
  parse(body: unknown, pathModel: string | null): ParseResult<Call>;
  success(call: Call, content: AnswerContent, usage: Usage, requestId: string): unknown;
  error(error: SimError, requestId: string): unknown;
  /** Informational rate-limit headers in the provider's style, for the limits that are set. */
  limitHeaders(status: LimitHeaderStatus): Record<string, string>;
}
