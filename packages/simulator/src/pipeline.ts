import { admit, inputTokensOf } from "./admission.ts";
import { answerFor } from "./answers.ts";
import { keyAccepted, modelField, openExchange, readBody } from "./exchange.ts";
import { pickLatency, sleep, untilAborted } from "./latency.ts";
import type { ParsedCall, Protocol, SimError } from "./protocol.ts";
import type { SimState } from "./state.ts";
import { estimateTokens } from "./tokens.ts";
import type { FaultSpec, RecordedRequest } from "./types.ts";

const UNAUTHORIZED: SimError = {
  status: 401,
  kind: "unauthorized",
  message: "Incorrect or missing API key.",
};

/**
 * Serves one generation request the way the provider would, in this order: record it, check the
 * API key (401), read the body (400), apply the request and token limits (429, not counted), take a
 * matching fault, wait the configured latency, then answer (or fail as the fault says).
 */
export async function serveCall<Call extends ParsedCall>(
  state: SimState,
  protocol: Protocol<Call>,
  request: Request,
  pathModel: string | null = null,
): Promise<Response> {
  const receivedAt = Date.now();
  const body = await readBody(request);
  const parsed = body.ok
    ? protocol.parse(body.value, pathModel)
    : { ok: false as const, message: body.message };
  const call = parsed.ok ? parsed.call : null;
  const { entry, url, requestId, reply, fail } = openExchange(state, protocol, request, {
    receivedAt,
    body: body.value,
    model: call?.model ?? pathModel ?? modelField(body.value),
    schemaName: call?.schemaName ?? null,
    counted: true,
  });

  if (!keyAccepted(state, protocol, request, url)) return fail(UNAUTHORIZED);
  if (!parsed.ok) return fail({ status: 400, kind: "invalid_request", message: parsed.message });
  const admission = admit(state, protocol.provider, parsed.call);
  if (!admission.ok) return fail(admission.error);

  const fault = state.faults.take(protocol.provider, parsed.call.schemaName);
  if (fault) state.recorder.markFault(entry, fault.kind);
  const stop = AbortSignal.any([request.signal, state.closing.signal]);
  if (fault?.kind === "hang") {
    // No answer, no usage: the token reservation is given back at once.
    state.tokenLimiter.settle(admission.tokens, 0);
    return hang(state, entry, stop);
  }
  await sleep(pickLatency(state.latency.get(protocol.provider), state.random), stop);

  const faultError = fault ? errorForFault(fault, protocol.provider) : null;
  if (faultError) {
    state.tokenLimiter.settle(admission.tokens, 0);
    return fail(faultError);
  }

  const content = answerFor(parsed.call, {
    provider: protocol.provider,
    planComparison: state.planComparison,
    answers: state.answers,
    fault: fault?.kind === "malformed_json" || fault?.kind === "schema_violation" ? fault.kind : null,
    warn: (message) => state.log("warn", `${protocol.provider} ${parsed.call.schemaName ?? "-"}: ${message}`),
  });
  const usage = {
    inputTokens: inputTokensOf(parsed.call),
    outputTokens: estimateTokens(content.text),
  };
  state.tokenLimiter.settle(admission.tokens, usage.inputTokens + usage.outputTokens);
  state.stats.answered(protocol.provider, admission.at, usage);
  return reply(200, protocol.success(parsed.call, content, usage, requestId));
}

async function hang(state: SimState, entry: RecordedRequest, stop: AbortSignal): Promise<Response> {
  state.log("info", `${entry.provider} ${entry.method} ${entry.path} ${entry.schemaName ?? "-"} -> hanging`);
  await untilAborted(stop);
  state.stats.finished(entry.provider, 0);
  // Nobody is listening any more (the client left or the server is closing); the record keeps
  // status 0 and respondedAt null: no response was ever sent.
  return new Response(null, { status: 503 });
}

/**
 * Serves a request that generates nothing (a model list, an unknown path): recorded, key-checked
 * when `checkKey`, answered with `payload` or a 404 in the provider's format.
 */
export async function serveOther<Call extends ParsedCall>(
  state: SimState,
  protocol: Protocol<Call>,
  request: Request,
  answer: { payload: unknown; checkKey: boolean } | "not_found",
): Promise<Response> {
  const receivedAt = Date.now();
  const body = await readBody(request);
  const { url, reply, fail } = openExchange(state, protocol, request, {
    receivedAt,
    body: body.value,
    model: modelField(body.value),
    schemaName: null,
    counted: false,
  });
  if (answer === "not_found") {
    return fail({
      status: 404,
      kind: "not_found",
      message: `Unknown request URL: ${request.method} ${url.pathname}`,
    });
  }
  if (answer.checkKey && !keyAccepted(state, protocol, request, url)) return fail(UNAUTHORIZED);
  return reply(200, answer.payload);
}

function errorForFault(fault: FaultSpec, provider: string): SimError | null {
  switch (fault.kind) {
    case "server_error":
      return {
        status: fault.status ?? 500,
        kind: "server_error",
        message: "The server had an error while processing your request.",
      };
    case "overloaded":
      return {
        status: fault.status ?? (provider === "anthropic" ? 529 : 503),
        kind: "overloaded",
        message: "The model is overloaded. Please try again later.",
      };
    case "rate_limit": {
      if (fault.retryAfterSeconds === null) {
        return { status: 429, kind: "rate_limited", message: "Rate limit reached. Please slow down." };
      }
      const retryAfterMs = Math.round((fault.retryAfterSeconds ?? 1) * 1000);
      return {
        status: 429,
        kind: "rate_limited",
        message: `Rate limit reached. Please try again in ${Math.ceil(retryAfterMs / 1000)}s.`,
        retryAfterMs,
      };
    }
    case "unauthorized":
      return UNAUTHORIZED;
    case "quota":
      return {
        // Anthropic answers a spent credit balance with a 400 (or a 402/403 billing_error); OpenAI
        // and Gemini with a 429 that no wait will lift.
        status: provider === "anthropic" ? (fault.status ?? 400) : 429,
        kind: "quota_exceeded",
        message: "You exceeded your current quota, please check your plan and billing details.",
      };
    case "hang":
    case "malformed_json":
    case "schema_violation":
      return null;
  }
}
