import { silentLogger } from "@foundry/engine";
import { describe, expect, it } from "vitest";
import { parseWorkerEnv, workerConfigFromEnv } from "./config.ts";

const base = {
  DATABASE_URL: "postgresql://postgres@127.0.0.1:5432/test",
  REDIS_URL: "redis://127.0.0.1:6379",
};

describe("the worker's provider limits", () => {
  it("reads tokens per window and calls in flight per provider; unset means none", () => {
    const env = parseWorkerEnv({ ...base, ANTHROPIC_TPM: "80000/60s", GEMINI_MAX_IN_FLIGHT: "4" });
    expect(env.ANTHROPIC_TPM).toEqual({ max: 80_000, windowMs: 60_000 });
    expect(env.OPENAI_TPM).toBeUndefined();
    expect(env.GEMINI_MAX_IN_FLIGHT).toBe(4);
    expect(env.OPENAI_MAX_IN_FLIGHT).toBeUndefined();
  });

  it.each([
    ["ANTHROPIC_TPM", "80k", /ANTHROPIC_TPM.*expected <tokens>\[\/<window>\]/s],
    ["OPENAI_MAX_IN_FLIGHT", "0", /OPENAI_MAX_IN_FLIGHT/],
    ["GEMINI_RATE_LIMIT", "lots", /GEMINI_RATE_LIMIT.*expected <requests>/s],
  ])("refuses %s=%s, naming the variable", (name, value, message) => {
    expect(() => parseWorkerEnv({ ...base, [name]: value })).toThrow(message);
  });
});

describe("the worker's configuration from its environment", () => {
  const configOf = (env: Record<string, string>, concurrency?: number) =>
    workerConfigFromEnv(parseWorkerEnv({ ...base, ...env }), {
      queues: ["orchestrator", "anthropic"],
      concurrency,
      providers: {},
      gitEnv: { HOME: "/home/worker" },
      log: silentLogger,
    });

  it("gives memory back after 10 s without a job, or as IDLE_TRIM_MS says; 0 never", () => {
    expect(configOf({}).idleTrimMs).toBe(10_000);
    expect(configOf({ IDLE_TRIM_MS: "2500" }).idleTrimMs).toBe(2_500);
    expect(configOf({ IDLE_TRIM_MS: "0" }).idleTrimMs).toBe(0);
    expect(() => configOf({ IDLE_TRIM_MS: "-1" })).toThrow(/IDLE_TRIM_MS/);
    expect(() => configOf({ IDLE_TRIM_MS: "soon" })).toThrow(/IDLE_TRIM_MS/);
  });

  it("applies --concurrency to the provider queues only", () => {
    const config = configOf({ ORCHESTRATOR_CONCURRENCY: "20", OPENAI_CONCURRENCY: "3" }, 2);
    expect(config.concurrency).toEqual({ orchestrator: 20, openai: 2, anthropic: 2, gemini: 2 });
    expect(configOf({ OPENAI_CONCURRENCY: "3" }).concurrency).toMatchObject({ openai: 3, anthropic: 8 });
  });

  it("publishes to GitHub, with git's environment, only when GITHUB_TOKEN is set", () => {
    expect(configOf({}).engine.github).toBeNull();
    expect(configOf({ GITHUB_TOKEN: "t", GITHUB_PRIVATE: "false" }).engine.github).toEqual({
      token: "t",
      apiUrl: undefined,
      owner: undefined,
      privateRepos: false,
      env: { HOME: "/home/worker" },
    });
  });

  it("serves metrics only with METRICS_PORT and puts the queues where the environment says", () => {
    expect(configOf({}).metricsServer).toBeUndefined();
    expect(configOf({ METRICS_PORT: "9464" }).metricsServer).toMatchObject({ port: 9464 });
    expect(configOf({}).queueBackend).toMatchObject({ kind: "redis", url: base.REDIS_URL });
    expect(configOf({ QUEUE_BACKEND: "postgres" }).queueBackend).toMatchObject({ kind: "postgres" });
  });
});
