import type { ParsedCall, Protocol, SimError } from "./protocol.ts";
import type { SimState } from "./state.ts";
import type { RecordedRequest } from "./types.ts";

// One request's bookkeeping, whatever it asks: the record, the response headers every answer
// carries, and the provider-format error. The routes in pipeline.ts decide what to answer.

const SECRET_HEADERS = new Set(["authorization", "x-api-key", "x-goog-api-key", "api-key"]);

export interface Exchange {
  entry: RecordedRequest;
  url: URL;
  requestId: string;
  reply(status: number, payload: unknown, headers?: Record<string, string>): Response;
  fail(error: SimError): Response;
}

/** Records the request and returns the ways to answer it (each finishes the record). */
export function openExchange<Call extends ParsedCall>(
  state: SimState,
  protocol: Protocol<Call>,
  request: Request,
  seen: {
    receivedAt: number;
    body: unknown;
    model: string | null;
    schemaName: string | null;
    /** A generation request, counted in the stats. */
    counted: boolean;
  },
): Exchange {
  const url = new URL(request.url);
  const requestId = protocol.newRequestId();
  const entry = state.recorder.begin({
    provider: protocol.provider,
    method: request.method,
    path: url.pathname,
    model: seen.model,
    schemaName: seen.schemaName,
    headers: redactedHeaders(request.headers),
    body: seen.body,
    receivedAt: seen.receivedAt,
  });
  if (seen.counted) state.stats.received(protocol.provider);
  const reply = (status: number, payload: unknown, headers: Record<string, string> = {}): Response => {
    state.recorder.finish(entry, status);
    if (seen.counted) state.stats.finished(protocol.provider, status);
    const fault = entry.fault ? ` (${entry.fault})` : "";
    state.log(
      "info",
      `${protocol.provider} ${request.method} ${url.pathname} ${seen.schemaName ?? "-"} -> ${status}${fault}`,
    );
    const limits = {
      requests: state.limiter.status(protocol.provider),
      tokens: state.tokenLimiter.status(protocol.provider),
    };
    return Response.json(payload, {
      status,
      headers: {
        "x-sim-seq": String(entry.seq),
        ...(protocol.requestIdHeader ? { [protocol.requestIdHeader]: requestId } : {}),
        ...(limits.requests || limits.tokens ? protocol.limitHeaders(limits) : {}),
        ...headers,
      },
    });
  };
  const fail = (error: SimError): Response =>
    reply(error.status, protocol.error({ model: seen.model, ...error }, requestId), retryHeaders(error));
  return { entry, url, requestId, reply, fail };
}

function retryHeaders(error: SimError): Record<string, string> {
  if (error.retryAfterMs === undefined) return {};
  return {
    "retry-after": String(Math.ceil(error.retryAfterMs / 1000)),
    "retry-after-ms": String(error.retryAfterMs),
  };
}

/** Whether the request presents the provider's expected key (any key when none is configured). */
export function keyAccepted<Call extends ParsedCall>(
  state: SimState,
  protocol: Protocol<Call>,
  request: Request,
  url: URL,
): boolean {
  const expected = state.keys[protocol.provider];
  return expected === null || protocol.apiKey(request.headers, url) === expected;
}

type Body = { ok: true; value: unknown } | { ok: false; value: unknown; message: string };

export async function readBody(request: Request): Promise<Body> {
  const text = await request.text();
  if (text === "") return { ok: false, value: null, message: "The request body is empty; send JSON." };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false, value: text, message: "The request body is not valid JSON." };
  }
}

export function modelField(body: unknown): string | null {
  if (typeof body !== "object" || body === null) return null;
  const model = (body as { model?: unknown }).model;
  return typeof model === "string" ? model : null;
}

function redactedHeaders(headers: Headers): Record<string, string> {
  const result: Record<string, string> = {};
  headers.forEach((value, name) => {
    result[name] = SECRET_HEADERS.has(name) ? "[redacted]" : value;
  });
  return result;
}
