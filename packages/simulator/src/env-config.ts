import { z } from "zod";
import { PROVIDERS } from "./options.ts";
import type { LatencySpec, RateLimit, SimProvider, SimulatorOptions } from "./types.ts";

// The command's environment, parsed once at start-up. Each variable's errors name the variable.

export type SimEnvResult =
  | { ok: true; options: SimulatorOptions; logRequests: boolean }
  | { ok: false; error: string };

type Issue = (message: string) => void;

const provider = z.enum(PROVIDERS);

/** `300`, `100-300`, or per provider `openai=200,anthropic=100-300`. */
function parseLatency(raw: string, fail: Issue): Partial<Record<SimProvider, LatencySpec>> {
  return perProvider(raw, fail, "300, 100-300 or openai=200,anthropic=100-300", (value) => {
    const match = /^(\d+)(?:-(\d+))?$/.exec(value);
    if (!match) return null;
    const min = Number(match[1]);
    if (match[2] === undefined) return min;
    const max = Number(match[2]);
    return min <= max ? { min, max } : null;
  });
}

/**
 * `600/60s` for every provider, or `openai=600/60s,anthropic=60/1m`; windows in ms, s or m. The same
 * shape serves request limits (SIM_LIMITS) and token limits (SIM_TPM).
 */
function parseLimits(raw: string, fail: Issue, example: string): Partial<Record<SimProvider, RateLimit>> {
  return perProvider(raw, fail, example, (value) => {
    const match = /^(\d+)\/(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(value);
    if (!match) return null;
    const max = Number(match[1]);
    const unit = match[3] ?? "ms";
    const windowMs = Number(match[2]) * (unit === "m" ? 60_000 : unit === "s" ? 1000 : 1);
    return max > 0 && windowMs > 0 ? { max, windowMs } : null;
  });
}

function perProvider<V>(
  raw: string,
  fail: Issue,
  example: string,
  parseValue: (value: string) => V | null,
): Partial<Record<SimProvider, V>> {
  const result: Partial<Record<SimProvider, V>> = {};
  for (const item of raw
    .split(",")
    .map((part) => part.trim())
    .filter(Boolean)) {
    const [name, value] = item.includes("=") ? item.split("=", 2).map((s) => s.trim()) : [null, item];
    const parsed = parseValue(value ?? "");
    if (parsed === null) {
      fail(`cannot read "${item}"; expected e.g. ${example}`);
      continue;
    }
    if (name === null) {
      for (const p of PROVIDERS) result[p] = parsed;
    } else if (provider.safeParse(name).success) {
      result[name as SimProvider] = parsed;
    } else {
      fail(`unknown provider "${name}"; expected one of ${PROVIDERS.join(", ")}`);
    }
  }
  return result;
}

const envSchema = z.object({
  SIM_PORT: z
    .string()
    .regex(/^\d+$/, "must be a port number")
    .transform(Number)
    .refine((port) => port <= 65535, "must be at most 65535")
    .default(4010),
  SIM_HOST: z.string().min(1).default("127.0.0.1"),
  SIM_LATENCY_MS: z
    .string()
    .optional()
    .transform((raw, ctx) =>
      raw ? parseLatency(raw, (message) => ctx.addIssue({ code: "custom", message })) : undefined,
    ),
  SIM_LIMITS: z
    .string()
    .optional()
    .transform((raw, ctx) =>
      raw
        ? parseLimits(
            raw,
            (message) => ctx.addIssue({ code: "custom", message }),
            "openai=600/60s,anthropic=60/60s",
          )
        : undefined,
    ),
  SIM_TPM: z
    .string()
    .optional()
    .transform((raw, ctx) =>
      raw
        ? parseLimits(
            raw,
            (message) => ctx.addIssue({ code: "custom", message }),
            "openai=30000/60s,gemini=100000/1m",
          )
        : undefined,
    ),
  SIM_SCENARIO: z.enum(["conflicts", "agree"]).optional(),
  SIM_SEED: z.string().regex(/^\d+$/, "must be a whole number").transform(Number).optional(),
  SIM_LOG: z.enum(["requests", "warnings"]).default("requests"),
});

/**
 * Reads SIM_PORT (default 4010), SIM_HOST (127.0.0.1), SIM_LATENCY_MS, SIM_LIMITS, SIM_TPM,
 * SIM_SCENARIO (conflicts|agree), SIM_SEED and SIM_LOG (requests|warnings).
 */
export function parseSimEnv(env: Record<string, string | undefined>): SimEnvResult {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`);
    return { ok: false, error: `Invalid environment: ${issues.join("; ")}` };
  }
  const vars = parsed.data;
  return {
    ok: true,
    logRequests: vars.SIM_LOG === "requests",
    options: {
      port: vars.SIM_PORT,
      host: vars.SIM_HOST,
      ...(vars.SIM_LATENCY_MS ? { latencyMs: vars.SIM_LATENCY_MS } : {}),
      ...(vars.SIM_LIMITS ? { limits: vars.SIM_LIMITS } : {}),
      ...(vars.SIM_TPM ? { tpm: vars.SIM_TPM } : {}),
      ...(vars.SIM_SCENARIO ? { scenario: { planComparison: vars.SIM_SCENARIO } } : {}),
      ...(vars.SIM_SEED !== undefined ? { seed: vars.SIM_SEED } : {}),
    },
  };
}
