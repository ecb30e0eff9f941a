import { FoundryError } from "@foundry/errors";
import { z } from "zod";
import type { FaultSpec, SimProvider, SimulatorConfigPatch, StatsOptions } from "./types.ts";

export const PROVIDERS = ["openai", "anthropic", "gemini"] as const satisfies readonly SimProvider[];

export const DEFAULT_KEYS: Readonly<Record<SimProvider, string>> = {
  openai: "sim-openai-key",
  anthropic: "sim-anthropic-key",
  gemini: "sim-gemini-key",
};

/** A fault spec, a config patch or an option that failed validation. */
export class SimulatorConfigError extends FoundryError {
  override readonly name = "SimulatorConfigError";

  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { code: "SIM_INVALID_CONFIG", isRetryable: false, ...options });
  }
}

const provider = z.enum(PROVIDERS);
const milliseconds = z.number().nonnegative();

const latencySpec = z.union([
  milliseconds,
  z
    .strictObject({ min: milliseconds, max: milliseconds })
    .refine((range) => range.min <= range.max, "min must not exceed max"),
]);

const rateLimit = z.strictObject({
  max: z.number().int().positive(),
  windowMs: z.number().positive(),
});

const scenario = z.strictObject({
  planComparison: z.enum(["conflicts", "agree"]).optional(),
  answers: z.record(z.string().min(1), z.unknown()).optional(),
});

export const faultSpecSchema = z.strictObject({
  provider: provider.optional(),
  schemaName: z.string().min(1).optional(),
  kind: z.enum([
    "server_error",
    "hang",
    "malformed_json",
    "schema_violation",
    "rate_limit",
    "unauthorized",
    "overloaded",
    "quota",
  ]),
  status: z.number().int().min(400).max(599).optional(),
  retryAfterSeconds: z.number().nonnegative().nullable().optional(),
  // JSON has no Infinity: over HTTP, null means "every matching request".
  times: z
    .union([z.number().int().positive(), z.literal(Number.POSITIVE_INFINITY), z.null()], {
      error: "expected a positive integer, or null (Infinity in code) for every matching request",
    })
    .optional(),
  probability: z.number().min(0).max(1).optional(),
});

export const configPatchSchema = z.strictObject({
  latencyMs: z.partialRecord(provider, latencySpec.nullable()).optional(),
  limits: z.partialRecord(provider, rateLimit.nullable()).optional(),
  tpm: z.partialRecord(provider, rateLimit.nullable()).optional(),
  scenario: scenario.optional(),
});

/** One line naming each bad field, e.g. `kind: Invalid option: expected one of …`. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.length > 0 ? issue.path.join(".") : "(root)"}: ${issue.message}`)
    .join("; ");
}

export function parseFaultSpec(input: unknown): FaultSpec {
  const parsed = faultSpecSchema.safeParse(input);
  if (!parsed.success) throw new SimulatorConfigError(`Invalid fault: ${describeIssues(parsed.error)}`);
  return parsed.data;
}

export function parseConfigPatch(input: unknown): SimulatorConfigPatch {
  const parsed = configPatchSchema.safeParse(input);
  if (!parsed.success) throw new SimulatorConfigError(`Invalid config: ${describeIssues(parsed.error)}`);
  return parsed.data;
}

const statsOptionsSchema = z.strictObject({ windowMs: z.number().positive().optional() });

export function parseStatsOptions(input: unknown): StatsOptions {
  const parsed = statsOptionsSchema.safeParse(input);
  if (!parsed.success)
    throw new SimulatorConfigError(`Invalid stats options: ${describeIssues(parsed.error)}`);
  return parsed.data;
}
