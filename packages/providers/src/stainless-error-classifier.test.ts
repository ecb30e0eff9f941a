import * as Anthropic from "@anthropic-ai/sdk";
import type { ProviderError } from "@foundry/llm";
import * as OpenAI from "openai";
import { describe, expect, it } from "vitest";
import { type CallContext, type ErrorClassifier, mapProviderError } from "./shared.ts";
import { stainlessErrorClassifier } from "./stainless-error-classifier.ts";

// The shared ladder fed by the Stainless classifier, on errors built by the SDKs' own factories.

const KEY = "sk-test-0123456789abcdefXYZ";
const ctx: CallContext = { apiKey: KEY, timeoutMs: 250, signal: undefined };
const openai = stainlessErrorClassifier(OpenAI);
const anthropic = stainlessErrorClassifier({
  ...Anthropic,
  apiMessage: (e: Anthropic.APIError) => e.apiMessage,
});

const mapOpenAI = (error: unknown, context = ctx): ProviderError =>
  mapProviderError("openai", error, context, openai);

describe("stainlessErrorClassifier", () => {
  it("maps an HTTP error with the body's message, redacted, and the retry-after header", () => {
    const body = { error: { message: `Rate limit reached for ${KEY}` } };
    const error = mapOpenAI(
      OpenAI.APIError.generate(429, body, undefined, new Headers({ "retry-after": "3" })),
    );

    expect(error).toMatchObject({ code: "rate_limited", status: 429, retryAfterMs: 3000 });
    expect(error.message).toBe("openai answered HTTP 429: Rate limit reached for [redacted]");
  });

  it("keeps a retry-after only for rate limits and server errors", () => {
    const headers = new Headers({ "retry-after": "3" });
    const error = mapOpenAI(OpenAI.APIError.generate(400, { error: { message: "bad" } }, undefined, headers));

    expect(error).toMatchObject({ code: "bad_request", status: 400, retryAfterMs: undefined });
  });

  it("takes Anthropic's apiMessage and retry-after-ms; 529 is a server_error", () => {
    const body = { type: "error", error: { type: "overloaded_error", message: "Overloaded" } };
    const thrown = Anthropic.APIError.generate(
      529,
      body,
      undefined,
      new Headers({ "retry-after-ms": "1500" }),
    );

    const error = mapProviderError("anthropic", thrown, ctx, anthropic);

    expect(error).toMatchObject({ code: "server_error", status: 529, retryAfterMs: 1500 });
    expect(error.message).toBe("anthropic answered HTTP 529: Overloaded");
  });

  it("maps an abort, a timeout and a connection failure", () => {
    const refused = new OpenAI.APIConnectionError({ cause: new Error("connect ECONNREFUSED 127.0.0.1:9") });

    expect(mapOpenAI(new OpenAI.APIUserAbortError())).toMatchObject({ code: "aborted" });
    expect(mapOpenAI(new OpenAI.APIConnectionTimeoutError()).message).toBe(
      "openai request timed out after 250 ms",
    );
    expect(mapOpenAI(refused)).toMatchObject({
      code: "network",
      message: "openai connection failed: connect ECONNREFUSED 127.0.0.1:9",
    });
  });
});

describe("mapProviderError", () => {
  it("calls any failure aborted once the caller's signal has fired", () => {
    const thrown = OpenAI.APIError.generate(500, undefined, "boom", undefined);
    const error = mapOpenAI(thrown, { ...ctx, signal: AbortSignal.abort() });

    expect(error).toMatchObject({ code: "aborted", message: "openai request was aborted", cause: thrown });
  });

  it("tells a body that is not JSON from anything else, without the key", () => {
    const syntax = mapOpenAI(new SyntaxError("Unexpected token <"));
    const other = mapOpenAI(new Error(`odd failure with ${KEY}`));

    expect(syntax).toMatchObject({
      code: "malformed_output",
      message: "openai sent a response body that is not JSON",
    });
    expect(other).toMatchObject({
      code: "unknown",
      message: "openai request failed: odd failure with [redacted]",
    });
    expect((other.cause as Error).message).not.toContain(KEY);
    expect(mapOpenAI("a string").message).toBe("openai request failed: a string");
  });

  it("names the provider's status text after the number", () => {
    const classify: ErrorClassifier = () => ({
      kind: "http",
      status: 429,
      statusText: "RESOURCE_EXHAUSTED",
      detail: "Quota exceeded",
      retryAfterMs: 37_000,
    });

    const error = mapProviderError("gemini", new Error("x"), ctx, classify);

    expect(error).toMatchObject({ code: "rate_limited", status: 429, retryAfterMs: 37_000 });
    expect(error.message).toBe("gemini answered HTTP 429 RESOURCE_EXHAUSTED: Quota exceeded");
  });
});
