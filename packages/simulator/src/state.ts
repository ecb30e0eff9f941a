import { FaultBook } from "./faults.ts";
import { SlidingWindowLimiter } from "./limiter.ts";
import { DEFAULT_KEYS, PROVIDERS, parseConfigPatch, parseFaultSpec } from "./options.ts";
import { seededRandom } from "./random.ts";
import { Recorder } from "./recorder.ts";
import { StatsBook } from "./stats.ts";
import { TokenWindowLimiter } from "./token-limiter.ts";
import type {
  LatencySpec,
  RateLimit,
  SimProvider,
  SimStats,
  SimulatorConfigPatch,
  SimulatorOptions,
} from "./types.ts";

/** The current runtime settings, as `GET /_sim/config` shows them. */
export interface ConfigSnapshot {
  latencyMs: Partial<Record<SimProvider, LatencySpec>>;
  limits: Partial<Record<SimProvider, RateLimit>>;
  tpm: Partial<Record<SimProvider, RateLimit>>;
  scenario: { planComparison: "conflicts" | "agree"; answers: Record<string, unknown> };
}

/** Everything a running simulator holds; shared by the provider routes and the admin API. */
export class SimState {
  readonly keys: Readonly<Record<SimProvider, string | null>>;
  readonly latency = new Map<SimProvider, LatencySpec>();
  readonly limiter = new SlidingWindowLimiter<SimProvider>();
  readonly tokenLimiter = new TokenWindowLimiter<SimProvider>();
  /** Counts over every request, apart from the bounded recorder. */
  readonly stats = new StatsBook();
  readonly faults: FaultBook;
  readonly recorder: Recorder;
  readonly random: () => number;
  /** Aborted by close(): ends hangs and latency waits. */
  readonly closing = new AbortController();
  readonly log: (level: "info" | "warn", message: string) => void;
  planComparison: "conflicts" | "agree" = "conflicts";
  /** Fixed answers by schema name (see Scenario.answers). */
  readonly answers = new Map<string, unknown>();

  constructor(options: SimulatorOptions) {
    const keys = options.keys ?? {};
    this.keys = {
      openai: keys.openai === undefined ? DEFAULT_KEYS.openai : keys.openai,
      anthropic: keys.anthropic === undefined ? DEFAULT_KEYS.anthropic : keys.anthropic,
      gemini: keys.gemini === undefined ? DEFAULT_KEYS.gemini : keys.gemini,
    };
    this.random = seededRandom(options.seed ?? 1);
    this.faults = new FaultBook(this.random);
    this.recorder = new Recorder(options.maxRecordedRequests ?? 1000);
    this.log = options.log ?? (() => {});
    this.configure({
      latencyMs: options.latencyMs,
      limits: options.limits,
      tpm: options.tpm,
      scenario: options.scenario,
    });
    for (const fault of options.faults ?? []) this.faults.add(parseFaultSpec(fault));
  }

  /** Validates and applies a patch; per provider, a value replaces and null removes. */
  configure(input: SimulatorConfigPatch): void {
    const patch = parseConfigPatch(input);
    for (const [provider, spec] of entries(patch.latencyMs)) {
      if (spec === null) this.latency.delete(provider);
      else this.latency.set(provider, spec);
    }
    for (const [provider, limit] of entries(patch.limits)) this.limiter.set(provider, limit);
    for (const [provider, limit] of entries(patch.tpm)) this.tokenLimiter.set(provider, limit);
    if (patch.scenario?.planComparison) this.planComparison = patch.scenario.planComparison;
    for (const [name, value] of Object.entries(patch.scenario?.answers ?? {})) {
      if (value === null) this.answers.delete(name);
      else this.answers.set(name, value);
    }
  }

  /** The stats, with busiest windows of `windowMs` or else of each configured limit's window. */
  statsSnapshot(windowMs?: number): SimStats {
    return this.stats.snapshot((provider) => ({
      requestsMs: windowMs ?? this.limiter.get(provider)?.windowMs,
      tokensMs: windowMs ?? this.tokenLimiter.get(provider)?.windowMs,
    }));
  }

  snapshot(): ConfigSnapshot {
    return {
      latencyMs: Object.fromEntries(this.latency),
      limits: Object.fromEntries(this.limiter.entries()),
      tpm: Object.fromEntries(this.tokenLimiter.entries()),
      scenario: { planComparison: this.planComparison, answers: Object.fromEntries(this.answers) },
    };
  }
}

function entries<V>(record: Partial<Record<SimProvider, V>> | undefined): [SimProvider, V][] {
  if (!record) return [];
  return PROVIDERS.filter((p) => record[p] !== undefined).map((p) => [p, record[p] as V]);
}
