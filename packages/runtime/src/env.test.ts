import { describe, expect, it } from "vitest";
import { z } from "zod";
import { durationEnv, EnvError, metricsEnv, parseDuration, parseEnv, sharedEnv } from "./env.ts";

const schema = z.object({ ...sharedEnv, PORT: z.coerce.number().int().default(3000) });
const base = { DATABASE_URL: "postgresql://localhost/x", REDIS_URL: "redis://localhost:6379" };

describe("parseEnv", () => {
  it("treats empty values as unset, so defaults apply", () => {
    const env = parseEnv(schema, { ...base, PORT: "", QUEUE_PREFIX: "", LOG_LEVEL: "" });
    expect(env).toMatchObject({ PORT: 3000, QUEUE_PREFIX: "foundry", LOG_LEVEL: "info" });
  });

  it("names every bad variable", () => {
    const bad = { DATABASE_URL: "mysql://x", REDIS_URL: "localhost:6379", QUEUE_PREFIX: "a:b" };
    expect(() => parseEnv(schema, bad)).toThrow(EnvError);
    try {
      parseEnv(schema, bad);
    } catch (error) {
      const message = (error as Error).message;
      expect(message).toContain("DATABASE_URL: expected a postgresql:// URL");
      expect(message).toContain("REDIS_URL: expected a redis:// URL");
      expect(message).toContain("QUEUE_PREFIX: letters, digits");
    }
  });
});

describe("metrics variables", () => {
  const metrics = z.object(metricsEnv);

  it("serve nothing unauthenticated by default, and only on loopback when asked", () => {
    expect(parseEnv(metrics, {})).toEqual({ METRICS_HOST: "127.0.0.1" });
    expect(parseEnv(metrics, { METRICS_PORT: "9464" })).toEqual({
      METRICS_PORT: 9464,
      METRICS_HOST: "127.0.0.1",
    });
    expect(parseEnv(metrics, { METRICS_PORT: "0", METRICS_HOST: "0.0.0.0" })).toEqual({
      METRICS_PORT: 0,
      METRICS_HOST: "0.0.0.0",
    });
  });

  it.each(["abc", "-1", "70000", "1.5"])("refuse METRICS_PORT=%s, naming it", (value) => {
    expect(() => parseEnv(metrics, { METRICS_PORT: value })).toThrow(/METRICS_PORT/);
  });
});

describe("durations", () => {
  it.each([
    ["1h", 3_600_000],
    ["30m", 1_800_000],
    ["90s", 90_000],
    ["500ms", 500],
    ["1.5h", 5_400_000],
    ["45", 45_000],
    [" 2 min ", 120_000],
    ["7d", 604_800_000],
  ])("reads %j", (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(["", "0", "-1s", "1 hour", "h", "1w"])("refuses %j", (text) => {
    expect(parseDuration(text)).toBeNull();
  });

  it("names the variable and the expected form", () => {
    const schema = z.object({ SESSION_TIMEOUT: durationEnv("1h") });
    expect(parseEnv(schema, {})).toEqual({ SESSION_TIMEOUT: 3_600_000 });
    expect(() => parseEnv(schema, { SESSION_TIMEOUT: "soon" })).toThrow(
      /SESSION_TIMEOUT: expected a duration such as 1h, 30m, 90s or 500ms, got "soon"/,
    );
  });
});
