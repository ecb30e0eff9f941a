import { hostname } from "node:os";
import { fileURLToPath } from "node:url";
import { DEFAULT_PRICES, type Logger, parseRateLimit } from "@foundry/engine";
import type { ProviderSettingsByName } from "@foundry/providers";
import { chooseQueueBackend, QUEUE_NAMES, type QueueName } from "@foundry/queue";
import { durationEnv, metricsEnv, parseEnv, sharedEnv } from "@foundry/runtime";
import { DEFAULT_FILE_LIMITS } from "@foundry/workspace";
import { z } from "zod";
import type { WorkerConfig } from "./create-worker.ts";

const repoPath = (relative: string) => fileURLToPath(new URL(`../../../${relative}`, import.meta.url));

const limitText = (unit: "requests" | "tokens") =>
  z.string().transform((text, ctx) => {
    try {
      return parseRateLimit(text, unit);
    } catch (error) {
      ctx.addIssue({ code: "custom", message: (error as Error).message });
      return z.NEVER;
    }
  });
const rateLimit = (fallback: string) => z.string().default(fallback).pipe(limitText("requests"));
/** Tokens per window; unset: no token limit (the provider's own TPM still answers 429s). */
const tokenLimit = () => limitText("tokens").optional();

const positiveInt = (fallback: number) => z.coerce.number().int().min(1).default(fallback);

const priceTable = z
  .string()
  .transform((text, ctx) => {
    try {
      return z
        .record(z.string(), z.object({ input: z.number().min(0), output: z.number().min(0) }))
        .parse(JSON.parse(text));
    } catch {
      ctx.addIssue({
        code: "custom",
        message: 'expected JSON such as {"openai/gpt-4.1":{"input":2,"output":8}} (USD per 1M tokens)',
      });
      return z.NEVER;
    }
  })
  .optional();

/** The worker's environment. Provider keys and base URLs are read by @foundry/providers. */
export const workerEnvSchema = z.object({
  ...sharedEnv,
  // GET /metrics on this port (none when unset): model calls, tokens, cost, 429s, queue counts.
  ...metricsEnv,
  WORKSPACE_DIR: z.string().default(repoPath(".data/workspaces")),
  // Defaults are the providers' entry-tier limits for the default models; raise them to your tier.
  OPENAI_RATE_LIMIT: rateLimit("500/60s"),
  ANTHROPIC_RATE_LIMIT: rateLimit("50/60s"),
  GEMINI_RATE_LIMIT: rateLimit("150/60s"),
  OPENAI_TPM: tokenLimit(),
  ANTHROPIC_TPM: tokenLimit(),
  GEMINI_TPM: tokenLimit(),
  OPENAI_MAX_IN_FLIGHT: z.coerce.number().int().min(1).optional(),
  ANTHROPIC_MAX_IN_FLIGHT: z.coerce.number().int().min(1).optional(),
  GEMINI_MAX_IN_FLIGHT: z.coerce.number().int().min(1).optional(),
  OPENAI_CONCURRENCY: positiveInt(8),
  ANTHROPIC_CONCURRENCY: positiveInt(8),
  GEMINI_CONCURRENCY: positiveInt(8),
  ORCHESTRATOR_CONCURRENCY: positiveInt(50),
  CALL_TIMEOUT_MS: positiveInt(120_000),
  SHUTDOWN_TIMEOUT_MS: positiveInt(30_000),
  // Memory: after this long without a job a worker gives its heap's free memory back; 0: never.
  IDLE_TRIM_MS: z.coerce.number().int().min(0).default(10_000),
  // Durability: leases, outages, 429s, the reconciler (see the README's Configuration).
  CALL_LEASE_MS: z.coerce.number().int().min(1_000).default(30_000),
  INFRA_OUTAGE_TIMEOUT_MS: positiveInt(600_000),
  MAX_RATE_LIMIT_PAUSE_MS: positiveInt(60_000),
  MAX_RATE_LIMIT_HITS: positiveInt(10),
  SESSION_TIMEOUT: durationEnv("1h"),
  RECONCILE_INTERVAL_MS: z.coerce.number().int().min(100).default(5_000),
  JOB_LOCK_MS: z.coerce.number().int().min(1_000).default(30_000),
  // Providers at scale: circuit breakers, budgets, the response cache.
  BREAKER_FAILURES: positiveInt(5),
  BREAKER_COOLDOWN_MS: z.coerce.number().int().min(100).default(30_000),
  MAX_SPEND_PER_HOUR_USD: z.coerce.number().positive().optional(),
  CACHE_TTL: durationEnv("7d"),
  CACHE_MAX_ENTRIES: positiveInt(10_000),
  PRICES: priceTable,
  MAX_FILES: positiveInt(500),
  MAX_FILE_BYTES: positiveInt(1024 * 1024),
  MAX_TOTAL_BYTES: positiveInt(20 * 1024 * 1024),
  // Keys and base URLs are read by @foundry/providers; the URLs are checked here so that a typo
  // stops the worker at start-up rather than at its first call.
  OPENAI_BASE_URL: z.url().optional(),
  ANTHROPIC_BASE_URL: z.url().optional(),
  GEMINI_BASE_URL: z.url().optional(),
  GITHUB_TOKEN: z.string().min(1).optional(),
  GITHUB_API_URL: z.url().optional(),
  GITHUB_OWNER: z.string().min(1).optional(),
  GITHUB_PRIVATE: z.enum(["true", "false"]).default("true"),
});

export type WorkerEnv = z.infer<typeof workerEnvSchema>;

export function parseWorkerEnv(env: Record<string, string | undefined>): WorkerEnv {
  return parseEnv(workerEnvSchema, env);
}

/** `--queues orchestrator,anthropic` (default: all) and `--concurrency N` (for the provider queues). */
export function parseQueues(text: string | undefined): QueueName[] {
  if (!text || text === "all") return [...QUEUE_NAMES];
  const names = text
    .split(",")
    .map((name) => name.trim())
    .filter(Boolean);
  const unknown = names.filter((name) => !(QUEUE_NAMES as readonly string[]).includes(name));
  if (unknown.length > 0 || names.length === 0) {
    throw new Error(
      `--queues: unknown queue ${unknown.join(", ") || "(none)"}; expected a comma-separated list of ${QUEUE_NAMES.join(", ")} or all`,
    );
  }
  return [...new Set(names)] as QueueName[];
}

/** The named variables of `env` that are set. */
export function pickEnv(
  env: Record<string, string | undefined>,
  names: readonly string[],
): Record<string, string> {
  return Object.fromEntries(
    names.flatMap((name) => (env[name] === undefined ? [] : [[name, env[name] as string]])),
  );
}

/**
 * A worker process's configuration: its parsed environment in the engine's terms, with the queues
 * it consumes and `--concurrency` (jobs at once on each provider queue, over `<PROVIDER>_CONCURRENCY`).
 *
 * @throws Error when the queue settings disagree (see `chooseQueueBackend`)
 */
export function workerConfigFromEnv(
  env: WorkerEnv,
  options: {
    queues: readonly QueueName[];
    concurrency?: number;
    providers: ProviderSettingsByName;
    /** The variables git needs to push (`GIT_PUSH_ENV_VARS` picked from the process's). */
    gitEnv: Record<string, string>;
    log: Logger;
  },
): WorkerConfig {
  const { concurrency } = options;
  return {
    databaseUrl: env.DATABASE_URL,
    queueBackend: chooseQueueBackend(env),
    queues: options.queues,
    concurrency: {
      orchestrator: env.ORCHESTRATOR_CONCURRENCY,
      openai: concurrency ?? env.OPENAI_CONCURRENCY,
      anthropic: concurrency ?? env.ANTHROPIC_CONCURRENCY,
      gemini: concurrency ?? env.GEMINI_CONCURRENCY,
    },
    providers: options.providers,
    log: options.log,
    idleTrimMs: env.IDLE_TRIM_MS,
    metricsServer:
      env.METRICS_PORT === undefined ? undefined : { port: env.METRICS_PORT, host: env.METRICS_HOST },
    engine: {
      workspaceDir: env.WORKSPACE_DIR,
      fileLimits: {
        ...DEFAULT_FILE_LIMITS,
        maxFiles: env.MAX_FILES,
        maxFileBytes: env.MAX_FILE_BYTES,
        maxTotalBytes: env.MAX_TOTAL_BYTES,
      },
      prices: { ...DEFAULT_PRICES, ...env.PRICES },
      limits: {
        openai: env.OPENAI_RATE_LIMIT,
        anthropic: env.ANTHROPIC_RATE_LIMIT,
        gemini: env.GEMINI_RATE_LIMIT,
      },
      tokenLimits: { openai: env.OPENAI_TPM, anthropic: env.ANTHROPIC_TPM, gemini: env.GEMINI_TPM },
      github: env.GITHUB_TOKEN
        ? {
            token: env.GITHUB_TOKEN,
            apiUrl: env.GITHUB_API_URL,
            owner: env.GITHUB_OWNER,
            privateRepos: env.GITHUB_PRIVATE === "true",
            env: options.gitEnv,
          }
        : null,
      worker: { host: hostname(), pid: process.pid },
      callTimeoutMs: env.CALL_TIMEOUT_MS,
      breaker: { failureThreshold: env.BREAKER_FAILURES, cooldownMs: env.BREAKER_COOLDOWN_MS },
      cache: { ttlMs: env.CACHE_TTL, maxEntries: env.CACHE_MAX_ENTRIES },
      maxSpendPerHourUsd: env.MAX_SPEND_PER_HOUR_USD,
      durability: {
        leaseMs: env.CALL_LEASE_MS,
        outageTimeoutMs: env.INFRA_OUTAGE_TIMEOUT_MS,
        maxRateLimitPauseMs: env.MAX_RATE_LIMIT_PAUSE_MS,
        maxRateLimitHits: env.MAX_RATE_LIMIT_HITS,
      },
    },
    pool: {
      reconciler: { intervalMs: env.RECONCILE_INTERVAL_MS, sessionTimeoutMs: env.SESSION_TIMEOUT },
      lockMs: env.JOB_LOCK_MS,
      maxInFlight: {
        openai: env.OPENAI_MAX_IN_FLIGHT,
        anthropic: env.ANTHROPIC_MAX_IN_FLIGHT,
        gemini: env.GEMINI_MAX_IN_FLIGHT,
      },
    },
  };
}
