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
  | "overloaded";

/** A failure to render in the provider's error format. */
export interface SimError {
  status: number;
  kind: SimErrorKind;
  message: string;
  /** For 429s: sent as `retry-after` (seconds, rounded up) and `retry-after-ms`. */
  retryAfterMs?: number;
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
  /** Informational rate-limit headers in the provider's style. */
  limitHeaders(status: LimitStatus): Record<string, string>;
}
