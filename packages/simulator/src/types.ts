/** The providers the simulator speaks for. */
export type SimProvider = "openai" | "anthropic" | "gemini";

/** A fixed delay, or a uniform random delay between `min` and `max` (inclusive), in milliseconds. */
export type LatencySpec = number | { min: number; max: number };

/**
 * Sliding window: at most `max` admitted requests (a request limit) or `max` tokens (a token limit)
 * in any `windowMs`.
 */
export interface RateLimit {
  max: number;
  windowMs: number;
}

/** Content switches for the scripted answers. */
export interface Scenario {
  /**
   * `conflicts`: the plan comparison lists two disagreements, so votes and a resolution follow.
   * `agree`: it lists none.
   * @default "conflicts"
   */
  planComparison?: "conflicts" | "agree";
  /**
   * Fixed answers by schema name, sent instead of the scripted ones (for what a real model might
   * say: hostile file paths, huge outputs). Each must satisfy the request's schema, or a generated
   * value is sent with a warning. `null` for a name removes its fixed answer.
   */
  answers?: Record<string, unknown>;
}

export type FaultKind =
  | "server_error"
  | "hang"
  | "malformed_json"
  | "schema_violation"
  | "rate_limit"
  | "unauthorized"
  | "overloaded"
  | "quota";

/** A failure to inject into matching requests. */
export interface FaultSpec {
  /** Only requests to this provider. @default all providers */
  provider?: SimProvider;
  /** Only requests whose output schema has this name. @default all requests */
  schemaName?: string;
  kind: FaultKind;
  /**
   * HTTP status of `server_error` (@default 500), `overloaded` (@default 529 for Anthropic, 503
   * for the others) and `quota` on Anthropic (@default 400 "credit balance is too low"; 402 or 403
   * send a `billing_error`). OpenAI's and Gemini's `quota` is always their real 429.
   */
  status?: number;
  /**
   * `retry-after` of a `rate_limit` fault, in seconds; `null` sends a 429 without any (as some
   * proxies and OpenAI-compatible servers do). @default 1
   */
  retryAfterSeconds?: number | null;
  /** How many matching requests it hits; `Infinity` (or `null` over HTTP) for all. @default 1 */
  times?: number | null;
  /** Chance that a matching request is hit, drawn from the simulator's seeded generator. @default 1 */
  probability?: number;
}

/** Runtime settings that can change while the simulator runs (`configure`, `PATCH /_sim/config`). */
export interface SimulatorConfigPatch {
  /** Added delay per provider before answering; `null` removes it. */
  latencyMs?: Partial<Record<SimProvider, LatencySpec | null>>;
  /** Request limits per provider; `null` removes one. */
  limits?: Partial<Record<SimProvider, RateLimit | null>>;
  /** Token limits per provider (input plus output tokens); `null` removes one. */
  tpm?: Partial<Record<SimProvider, RateLimit | null>>;
  scenario?: Scenario;
}

export interface SimulatorOptions {
  /** @default 0 (a free port) */
  port?: number;
  /** @default "127.0.0.1" */
  host?: string;
  latencyMs?: Partial<Record<SimProvider, LatencySpec>>;
  limits?: Partial<Record<SimProvider, RateLimit>>;
  /**
   * Token limits per provider: the input plus output tokens of the requests admitted in any
   * `windowMs` stay at or below `max`. A request reserves its input tokens plus its output limit
   * (`max_completion_tokens`/`max_tokens`, Anthropic `max_tokens`, Gemini `maxOutputTokens`) when
   * admitted; its reported usage replaces the reservation once answered.
   */
  tpm?: Partial<Record<SimProvider, RateLimit>>;
  /**
   * Expected API key per provider; a request with another key (or none) gets 401. `null` accepts any key.
   * @default { openai: "sim-openai-key", anthropic: "sim-anthropic-key", gemini: "sim-gemini-key" }
   */
  keys?: Partial<Record<SimProvider, string | null>>;
  scenario?: Scenario;
  faults?: FaultSpec[];
  /** Seed of the generator behind fault probabilities and latency ranges. @default 1 */
  seed?: number;
  /** How many requests the recorder keeps, bodies included (oldest dropped first). @default 1000 */
  maxRecordedRequests?: number;
  /** Receives one `info` line per answered request, and `warn` lines. @default no logging */
  log?: (level: "info" | "warn", message: string) => void;
}

export interface RecordedRequest {
  /** 1, 2, 3… in order of arrival; also sent as the `x-sim-seq` response header. */
  seq: number;
  provider: SimProvider;
  method: string;
  /** URL path without the query string (which may hold an API key). */
  path: string;
  model: string | null;
  schemaName: string | null;
  /** Request headers, lower-case names, with API keys replaced by `[redacted]`. */
  headers: Record<string, string>;
  /** The parsed JSON body, or the raw text when it was not JSON (null when empty). */
  body: unknown;
  /** HTTP status sent; 0 while no response has been sent (in flight, or a hang). */
  status: number;
  fault: FaultKind | null;
  receivedAt: number;
  respondedAt: number | null;
}

export interface RequestFilter {
  provider?: SimProvider;
  schemaName?: string;
  /** The request's `X-Foundry-Request-Id` header. */
  requestId?: string;
}

/** Counts for one provider since the last reset, over every request (not only the recorded ones). */
export interface ProviderStats {
  /** Generation requests received, whatever their outcome. */
  requests: number;
  /** Received and not yet answered (a hang the client has not left, or latency). */
  inFlight: number;
  /** Answered requests by HTTP status; `0` counts hangs that ended without a response. */
  byStatus: Record<string, number>;
  /** Usage reported in 200 answers. */
  tokens: { input: number; output: number };
  /**
   * The most requests that reached the rate-limit check (a valid key and body; 429s included) in
   * any sliding window of `windowMs`: the configured request limit's window, or the one asked for.
   * At most the limit's `max` means the clients never exceeded it. Null without a window size.
   */
  busiestWindow: { windowMs: number; requests: number } | null;
  /** The most tokens answered (input plus output, by admission time) in any window of `windowMs`. */
  busiestTokenWindow: { windowMs: number; tokens: number } | null;
}

export interface SimStats {
  /** When counting started (start-up or the last reset), ms since the epoch. */
  since: number;
  /** Providers that received at least one generation request. */
  providers: Partial<Record<SimProvider, ProviderStats>>;
}

export interface StatsOptions {
  /** Window size for `busiestWindow` and `busiestTokenWindow`. @default each configured limit's own */
  windowMs?: number;
}

export interface Simulator {
  /** `http://<host>:<port>` */
  readonly url: string;
  /** Base URLs and keys for the official SDKs (`OPENAI_BASE_URL`, `OPENAI_API_KEY`, …). */
  env(): Record<string, string>;
  requests(filter?: RequestFilter): RecordedRequest[];
  clearRequests(): void;
  /** Per-provider counts over every request since start-up or `resetStats()`. */
  stats(options?: StatsOptions): SimStats;
  /** Starts counting afresh (`clearRequests` leaves the counts alone). */
  resetStats(): void;
  /** Adds a fault; throws `SimulatorConfigError` when the spec is invalid. */
  injectFault(fault: FaultSpec): void;
  clearFaults(): void;
  /** Changes latency, limits, token limits or scenario; throws `SimulatorConfigError` when the patch is invalid. */
  configure(patch: SimulatorConfigPatch): void;
  /** Stops listening and ends every open connection, hanging requests included. */
  close(): Promise<void>;
}
