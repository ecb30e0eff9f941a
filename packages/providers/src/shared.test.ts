import { describe, expect, it } from "vitest";
import { retryDelayMs } from "./gemini.ts";
import { excerpt, redactSecrets, safeCause } from "./shared.ts";

describe("redactSecrets", () => {
  it("removes the key and anything shaped like a provider key", () => {
    const text =
      "Incorrect API key provided: my-own-key. Also sk-proj-abcdefghijklmnop1234 and AIzaSyA1234567890abcdefghij";
    const out = redactSecrets(text, "my-own-key");
    expect(out).not.toContain("my-own-key");
    expect(out).not.toContain("sk-proj-abcdefghijklmnop1234");
    expect(out).not.toContain("AIzaSyA1234567890abcdefghij");
    expect(out).toContain("Incorrect API key provided: [redacted]");
  });

  it("bounds and flattens what goes into our messages", () => {
    expect(excerpt(`a\n  b ${"x".repeat(400)}`, "key")).toMatch(/^a b x+…$/);
  });
});

describe("safeCause", () => {
  it("keeps an SDK error that does not echo the key", () => {
    const error = new Error("401 Incorrect API key provided");
    expect(safeCause(error, "secret-key")).toBe(error);
  });

  it("replaces one that echoes the key, in its message or its body, by a redacted copy", () => {
    const echoed = Object.assign(new Error("bad key secret-key"), { name: "AuthenticationError" });
    const copy = safeCause(echoed, "secret-key") as Error;
    expect(copy).not.toBe(echoed);
    expect(copy.name).toBe("AuthenticationError");
    expect(copy.message).toBe("bad key [redacted]");

    const inBody = Object.assign(new Error("401"), { error: { message: "key secret-key is invalid" } });
    expect(JSON.stringify(safeCause(inBody, "secret-key"))).not.toContain("secret-key");
  });
});

describe("retryDelayMs (Gemini RetryInfo)", () => {
  it("reads google.rpc.RetryInfo's retryDelay", () => {
    const details = [
      { "@type": "type.googleapis.com/google.rpc.QuotaFailure" },
      { "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: "37s" },
    ];
    expect(retryDelayMs({ details })).toBe(37_000);
    expect(
      retryDelayMs({
        details: [{ "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: "1.5s" }],
      }),
    ).toBe(1500);
  });

  it("returns undefined when there is none", () => {
    expect(retryDelayMs({ details: [] })).toBeUndefined();
    expect(retryDelayMs(undefined)).toBeUndefined();
    expect(
      retryDelayMs({
        details: [{ "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: "soon" }],
      }),
    ).toBeUndefined();
  });
});
