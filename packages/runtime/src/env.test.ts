import { describe, expect, it } from "vitest";
import { z } from "zod";
import { EnvError, parseEnv, sharedEnv } from "./env.ts";

const schema = z.object({ ...sharedEnv, PORT: z.coerce.number().int().default(3000) });
const base = { DATABASE_URL: "postgresql://localhost/x", REDIS_URL: "redis://localhost:6379" };

describe("parseEnv", () => {
  it("treats empty values as unset, so defaults apply", () => {
    const env = parseEnv(schema, { ...base, PORT: "", QUEUE_PREFIX: "", LOG_LEVEL: "" });
    expect(env).toMatchObject({ PORT: 3000, QUEUE_PREFIX: "foundry", LOG_LEVEL: "info" });
  });

  it("names every bad variable", () => {
    expect(() => parseEnv(schema, { DATABASE_URL: "mysql://x", QUEUE_PREFIX: "a:b" })).toThrow(EnvError);
    try {
      parseEnv(schema, { DATABASE_URL: "mysql://x", QUEUE_PREFIX: "a:b" });
    } catch (error) {
      const message = (error as Error).message;
      expect(message).toContain("DATABASE_URL: expected a postgresql:// URL");
      expect(message).toContain("REDIS_URL: REDIS_URL is required");
      expect(message).toContain("QUEUE_PREFIX: letters, digits");
    }
  });
});
