import { fileURLToPath } from "node:url";
import { parseRateLimit } from "@foundry/engine";
import { metricsEnv, parseEnv, sharedEnv } from "@foundry/runtime";
import { z } from "zod";

const repoPath = (relative: string) => fileURLToPath(new URL(`../../../${relative}`, import.meta.url));

const providerRateLimit = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((text, ctx) => {
      try {
        return parseRateLimit(text);
      } catch (error) {
        ctx.addIssue({ code: "custom", message: (error as Error).message });
        return z.NEVER;
      }
    });

/** The API's environment. */
export const apiEnvSchema = z.object({
  ...sharedEnv,
  ...metricsEnv,
  PORT: z.coerce.number().int().min(0).max(65_535).default(3000),
  HOST: z.string().default("0.0.0.0"),
  API_TOKEN: z
    .string({ error: "API_TOKEN is required: clients send it as `Authorization: Bearer <token>`" })
    .min(16, "API_TOKEN must be at least 16 characters"),
  WORKFLOWS_DIR: z.string().default(repoPath("workflows")),
  WORKSPACE_DIR: z.string().default(repoPath(".data/workspaces")),
  /** Only its presence matters here: publishing is refused up front without it. */
  GITHUB_TOKEN: z.string().min(1).optional(),
  MAX_BODY_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(1024 * 1024),
  /** Sign-in attempts (`POST /login`) per client address, counted in Postgres for every replica. */
  LOGIN_RATE_LIMIT: z
    .string()
    .default("10/60s")
    .transform((text, ctx) => {
      try {
        const limit = parseRateLimit(text);
        return { max: limit.max, windowSeconds: Math.max(1, Math.round(limit.windowMs / 1000)) };
      } catch (error) {
        ctx.addIssue({ code: "custom", message: (error as Error).message });
        return z.NEVER;
      }
    }),
  /**
   * The providers' rate limits, only to draw the dashboard's load chart against: give the API the
   * workers' values (the defaults are the same).
   */
  OPENAI_RATE_LIMIT: providerRateLimit("500/60s"),
  ANTHROPIC_RATE_LIMIT: providerRateLimit("50/60s"),
  GEMINI_RATE_LIMIT: providerRateLimit("150/60s"),
  /** Behind a reverse proxy: take the client's address from the last X-Forwarded-For entry. */
  TRUST_PROXY: z.enum(["true", "false"]).default("false"),
  /** Audit rows older than this are deleted (checked on write, at most once an hour). */
  AUDIT_RETENTION_DAYS: z.coerce.number().int().min(1).default(90),
});

export type ApiEnv = z.infer<typeof apiEnvSchema>;

export function parseApiEnv(env: Record<string, string | undefined>): ApiEnv {
  return parseEnv(apiEnvSchema, env);
}
