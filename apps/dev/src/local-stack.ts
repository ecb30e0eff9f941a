import { randomBytes } from "node:crypto";
import { chmodSync, mkdirSync } from "node:fs";
import { join, relative } from "node:path";
import {
  COMMON_REDIS_DIRS,
  findRedisServer,
  type LocalPostgres,
  type LocalRedis,
  RedisNotFoundError,
  startEmbeddedPostgres,
  startPrivateRedis,
} from "@foundry/devstack";
import { type Simulator, startSimulator } from "@foundry/simulator";
import { DATA_DIR, REPO_ROOT } from "./paths.ts";

const PROVIDERS = ["openai", "anthropic", "gemini"] as const;
type Provider = (typeof PROVIDERS)[number];
const KEY_VARS: Record<Provider, string[]> = {
  openai: ["OPENAI_API_KEY"],
  anthropic: ["ANTHROPIC_API_KEY"],
  gemini: ["GEMINI_API_KEY", "GOOGLE_API_KEY"],
};

/** What the demo and `npm run dev` run on, and how to stop it. */
export interface LocalStack {
  /** Environment for the API and worker processes. */
  env: Record<string, string>;
  apiToken: string;
  /** One line: `queues: postgres (embedded, schema bullmq) · postgres: embedded (.data/postgres) · providers: simulator`. */
  summary: string;
  simulator: Simulator | null;
  /** Stops what this stack started, in reverse order. */
  stop(): Promise<void>;
}

/** Thrown before anything starts when no Redis can be had; the message says how to get one. */
export { RedisNotFoundError };

/**
 * Resolves Postgres, the queues and the providers. Unset `DATABASE_URL`: an embedded PostgreSQL in
 * `.data/postgres`. The queues: on Redis when `REDIS_URL` is set; with `QUEUE_BACKEND=redis` and no
 * `REDIS_URL`, a private redis-server in `.data/redis` (checked first, so a machine without one
 * stops before anything starts); otherwise in PostgreSQL, so Node is all it needs. A provider
 * without an API key: the simulator. What the environment sets is used as it is.
 */
export async function startLocalStack(
  env: Record<string, string | undefined>,
  options: { log?: (line: string) => void } = {},
): Promise<LocalStack> {
  const stops: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const fn of stops.reverse()) await fn().catch(() => {});
    stops.length = 0;
  };
  const pretty = (path: string) => relative(process.cwd(), path) || path;
  // Servers started as another user (PostgreSQL refuses to run as root) must be able to enter .data.
  mkdirSync(DATA_DIR, { recursive: true });
  chmodSync(DATA_DIR, 0o755);

  const queueBackend = env.QUEUE_BACKEND || (env.REDIS_URL ? "redis" : "postgres");
  if (queueBackend !== "redis" && queueBackend !== "postgres") {
    throw new Error(`QUEUE_BACKEND: expected "redis" or "postgres", got ${JSON.stringify(queueBackend)}`);
  }
  const privateRedis = queueBackend === "redis" && !env.REDIS_URL;
  if (privateRedis && !findRedisServer()) {
    throw new RedisNotFoundError([...(env.PATH ?? "").split(":").filter(Boolean), ...COMMON_REDIS_DIRS]);
  }
  try {
    const queueEnv: Record<string, string> = { QUEUE_BACKEND: queueBackend };
    let queuesLabel = "";
    if (queueBackend === "redis") {
      let redisUrl = env.REDIS_URL;
      let where = redact(env.REDIS_URL ?? "");
      if (!redisUrl) {
        const redis: LocalRedis = await startPrivateRedis({
          dataDir: join(DATA_DIR, "redis"),
          log: options.log,
        });
        stops.push(() => redis.stop());
        redisUrl = redis.url;
        where = `private redis-server 127.0.0.1:${redis.port}, ${pretty(redis.dataDir)}`;
      }
      queueEnv.REDIS_URL = redisUrl;
      queuesLabel = `redis (${where})`;
    }

    let databaseUrl = env.DATABASE_URL;
    let postgresLabel = `DATABASE_URL (${redact(env.DATABASE_URL ?? "")})`;
    if (!databaseUrl) {
      const postgres: LocalPostgres = await startEmbeddedPostgres({
        dataDir: join(DATA_DIR, "postgres"),
        database: "foundry",
        log: options.log,
      });
      stops.push(() => postgres.stop());
      databaseUrl = postgres.url;
      postgresLabel = `embedded (${pretty(postgres.dataDir)}, port ${postgres.port})`;
    }
    if (queueBackend === "postgres") {
      queuesLabel = `postgres (${env.DATABASE_URL ? "DATABASE_URL" : "embedded"}, schema bullmq)`;
    }

    const real = PROVIDERS.filter((provider) => KEY_VARS[provider].some((name) => env[name]));
    const simulated = PROVIDERS.filter((provider) => !real.includes(provider));
    let simulator: Simulator | null = null;
    const providerEnv: Record<string, string> = {};
    if (simulated.length > 0) {
      simulator = await startSimulator({ latencyMs: parseLatency(env.SIM_LATENCY_MS) });
      stops.push(() => (simulator as Simulator).close());
      const simEnv = simulator.env();
      for (const provider of simulated) {
        const prefix = provider.toUpperCase();
        providerEnv[`${prefix}_BASE_URL`] = simEnv[`${prefix}_BASE_URL`] as string;
        providerEnv[`${prefix}_API_KEY`] = simEnv[`${prefix}_API_KEY`] as string;
        // The real providers' entry-tier limits are the workers' defaults; the simulator has none.
        providerEnv[`${prefix}_RATE_LIMIT`] = env[`${prefix}_RATE_LIMIT`] ?? "6000/60s";
      }
    }
    const providersLabel =
      real.length === 0
        ? `simulator (${simulator?.url})`
        : PROVIDERS.map((provider) =>
            real.includes(provider)
              ? `${provider} (real${env[`${provider.toUpperCase()}_BASE_URL`] ? `: ${env[`${provider.toUpperCase()}_BASE_URL`]}` : ""})`
              : `${provider} (simulator)`,
          ).join(", ");

    const apiToken = env.API_TOKEN ?? randomBytes(24).toString("base64url");
    const inherited = Object.fromEntries(
      Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined),
    );
    return {
      env: {
        ...inherited,
        ...providerEnv,
        DATABASE_URL: databaseUrl,
        ...queueEnv,
        API_TOKEN: apiToken,
        WORKSPACE_DIR: env.WORKSPACE_DIR ?? join(DATA_DIR, "workspaces"),
        WORKFLOWS_DIR: env.WORKFLOWS_DIR ?? join(REPO_ROOT, "workflows"),
      },
      apiToken,
      summary: `queues: ${queuesLabel} · postgres: ${postgresLabel} · providers: ${providersLabel}`,
      simulator,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(unparsable URL)";
  }
}

function parseLatency(text: string | undefined): Partial<Record<Provider, number>> | undefined {
  if (!text) return undefined;
  const ms = Number(text);
  if (!Number.isFinite(ms) || ms < 0) throw new Error(`SIM_LATENCY_MS: expected milliseconds, got "${text}"`);
  return { openai: ms, anthropic: ms, gemini: ms };
}
