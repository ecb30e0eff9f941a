import * as Anthropic from "@anthropic-ai/sdk";
import { describe, expect, it } from "vitest";
import { billingCause } from "./anthropic.ts";
import { quotaCause } from "./gemini.ts";

// The bodies providers send when an account runs out, as published in their API references and
// seen in the wild; the simulator covers the common one of each, these the rest.

const anthropicError = (status: number, error: Record<string, unknown>) =>
  Anthropic.APIError.generate(status, { type: "error", error }, undefined, new Headers());

describe("Anthropic billingCause", () => {
  it.each([
    [
      400,
      {
        type: "invalid_request_error",
        message: "Your credit balance is too low to access the Anthropic API.",
      },
      "credit balance too low",
    ],
    [
      400,
      {
        type: "invalid_request_error",
        message:
          "You have reached your specified workspace API usage limits. You will regain access on 2026-11-01 at 00:00 UTC.",
      },
      "API usage limit reached",
    ],
    [
      402,
      { type: "billing_error", message: "There is an issue with your billing or payment information." },
      "billing_error",
    ],
    [403, { type: "billing_error", message: "Billing hold." }, "billing_error"],
    [
      403,
      {
        type: "permission_error",
        message: "Spend limit reached.",
        details: { error_code: "enforced_spend_limit_reached" },
      },
      "enforced_spend_limit_reached",
    ],
  ])("a %i with %j is a quota error (%s)", (status, body, cause) => {
    expect(billingCause(anthropicError(status, body))).toBe(cause);
  });

  it.each([
    [400, { type: "invalid_request_error", message: "max_tokens: Field required" }],
    [
      403,
      {
        type: "permission_error",
        message: "Your API key does not have permission to use the specified resource.",
      },
    ],
    [
      429,
      {
        type: "rate_limit_error",
        message: "Number of request tokens has exceeded your per-minute rate limit",
      },
    ],
    // The message matters only on 400/403: a 500 that mentions credits is a server error.
    [500, { type: "api_error", message: "Your credit balance is too low" }],
  ])("a %i with %j is not", (status, body) => {
    expect(billingCause(anthropicError(status, body))).toBeUndefined();
  });
});

const QUOTA_WORDS =
  "You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.";
const violation = (quotaId: string) => ({
  quotaMetric: "generativelanguage.googleapis.com/generate_content_free_tier_requests",
  quotaId,
  quotaDimensions: { model: "gemini-2.5-pro", location: "global" },
});
const quotaFailure = (...quotaIds: string[]) => ({
  "@type": "type.googleapis.com/google.rpc.QuotaFailure",
  violations: quotaIds.map(violation),
});
const retryInfo = { "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: "44s" };

describe("Gemini quotaCause", () => {
  it("a per-day QuotaFailure is a used-up quota, even next to a per-minute one and a short RetryInfo", () => {
    const body = {
      message: QUOTA_WORDS,
      status: "RESOURCE_EXHAUSTED",
      details: [
        quotaFailure(
          "GenerateContentInputTokensPerModelPerMinute-FreeTier",
          "GenerateRequestsPerDayPerProjectPerModel-FreeTier",
        ),
        retryInfo,
      ],
    };

    expect(quotaCause(429, body)).toBe("per-day quota GenerateRequestsPerDayPerProjectPerModel-FreeTier");
  });

  it("a per-minute QuotaFailure is a rate limit, though Google's words say quota and billing", () => {
    const body = {
      message: QUOTA_WORDS,
      status: "RESOURCE_EXHAUSTED",
      details: [quotaFailure("GenerateRequestsPerMinutePerProjectPerModel-FreeTier"), retryInfo],
    };

    expect(quotaCause(429, body)).toBeUndefined();
  });

  it.each([
    "Your prepayment credits are depleted. Please go to AI Studio at https://ai.studio/projects to manage your project and billing.",
    "Your project has reached its monthly spending cap.",
    "Quota exceeded for quota metric 'Gemini 2.5 Pro Requests' and limit 'Gemini 2.5 Pro Requests per day per user per tier'",
  ])("a 429 saying %j is a used-up quota", (message) => {
    expect(quotaCause(429, { message, status: "RESOURCE_EXHAUSTED" })).toEqual(expect.any(String));
  });

  it("a bare 'Resource has been exhausted' is a rate limit; other statuses are never quotas", () => {
    expect(
      quotaCause(429, {
        message: "Resource has been exhausted (e.g. check quota).",
        status: "RESOURCE_EXHAUSTED",
      }),
    ).toBeUndefined();
    expect(
      quotaCause(400, { message: "Your prepayment credits are depleted.", status: "INVALID_ARGUMENT" }),
    ).toBeUndefined();
    expect(quotaCause(429, undefined)).toBeUndefined();
  });
});
