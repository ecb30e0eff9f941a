import type { PrismaClient } from "@foundry/db";
import type { LanguageModel, ProviderName } from "@foundry/llm";
import type { QueueSet } from "@foundry/queue";
import type {
  BreakerSettings,
  BreakerStore,
  CacheSettings,
  CallGate,
  RateLimit,
  RateLimiter,
} from "@foundry/store";
import type { FileLimits, GitHubSettings } from "@foundry/workspace";
import type { DurabilitySettings } from "./durability.ts";
import type { Logger } from "./logger.ts";
import type { EngineObserver } from "./observer.ts";
import type { PriceTable } from "./pricing.ts";

/** Everything the engine's processors use, built once per process by the worker app. */
export interface EngineDeps {
  db: PrismaClient;
  queues: QueueSet;
  log: Logger;
  /** Root of the session workspaces (`<workspaceDir>/<session id>`). */
  workspaceDir: string;
  fileLimits: FileLimits;
  prices: PriceTable;
  /** Adapters for the providers this process calls; a provider without one fails its calls clearly. */
  models: Partial<Record<ProviderName, LanguageModel>>;
  /** Requests per window, per provider, for the whole cluster. */
  limits: Partial<Record<ProviderName, RateLimit>>;
  /** Tokens (input + output) per window, per provider, for the whole cluster (`<PROVIDER>_TPM`). */
  tokenLimits?: Partial<Record<ProviderName, RateLimit>>;
  /** The cluster-wide limiter, in the store the queues use (see coordinationFor). */
  limiter: RateLimiter;
  /** Set when GITHUB_TOKEN is; publishing is refused without it. */
  github: GitHubSettings | null;
  /** Recorded on each model call: which worker made it. */
  worker: { host: string; pid: number };
  /** Per-request provider timeout. @default 120000 */
  callTimeoutMs?: number;
  /** Leases, outage bounds and 429 caps; each unset value has its default (DEFAULT_DURABILITY). */
  durability?: Partial<DurabilitySettings>;
  /** Circuit breakers per provider and model, in the store the queues share. */
  breakers: BreakerStore;
  /** A call's breaker and limiter admission in one round trip, in the same store (see coordinationFor). */
  gate: CallGate;
  /** @default DEFAULT_BREAKER (5 failures, 30 s cool-down) */
  breaker?: Partial<BreakerSettings>;
  /** The response cache's TTL and size (sessions opt in). @default DEFAULT_CACHE */
  cache?: Partial<CacheSettings>;
  /** Cluster-wide spend limit over any hour, in USD (MAX_SPEND_PER_HOUR_USD); unset: none. */
  maxSpendPerHourUsd?: number;
  /** Whose cache entries a session may reuse: one tenant until API tokens are per user. @default "default" */
  tenant?: string;
  /** Told about calls, pauses, breakers and phases as they happen (metrics). */
  observe?: EngineObserver;
}
