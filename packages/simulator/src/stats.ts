import type { ProviderStats, SimProvider, SimStats } from "./types.ts";

interface Counters {
  requests: number;
  byStatus: Map<number, number>;
  inputTokens: number;
  outputTokens: number;
  /** When each request reached the rate-limit check, in arrival order. */
  arrivals: number[];
  /** Admission time and billed tokens of each answered request (in order of answer). */
  answered: { at: number; tokens: number }[];
}

/**
 * Per-provider counters over every generation request since the last reset, kept apart from the
 * bounded recorder (which drops old bodies) so that a long benchmark is counted in full. Costs two
 * numbers per request.
 */
export class StatsBook {
  #since = Date.now();
  #counters = new Map<SimProvider, Counters>();

  /** A generation request arrived (any outcome). */
  received(provider: SimProvider): void {
    this.#of(provider).requests += 1;
  }

  /** It passed the key and body checks and reached the rate limits (whatever they decide). */
  reachedLimits(provider: SimProvider, at: number): void {
    this.#of(provider).arrivals.push(at);
  }

  /** A response was sent (or, with status 0, never will be). */
  finished(provider: SimProvider, status: number): void {
    const { byStatus } = this.#of(provider);
    byStatus.set(status, (byStatus.get(status) ?? 0) + 1);
  }

  /** A 200 answer reported this usage; `at` is when the request was admitted. */
  answered(provider: SimProvider, at: number, usage: { inputTokens: number; outputTokens: number }): void {
    const counters = this.#of(provider);
    counters.inputTokens += usage.inputTokens;
    counters.outputTokens += usage.outputTokens;
    counters.answered.push({ at, tokens: usage.inputTokens + usage.outputTokens });
  }

  reset(): void {
    this.#since = Date.now();
    this.#counters.clear();
  }

  /**
   * The counts per provider. `windows` gives the window sizes to find the busiest window for:
   * requests that reached the rate-limit check (429s included) and tokens answered.
   */
  snapshot(windows: (provider: SimProvider) => { requestsMs?: number; tokensMs?: number }): SimStats {
    const providers: Partial<Record<SimProvider, ProviderStats>> = {};
    for (const [provider, counters] of this.#counters) {
      const { requestsMs, tokensMs } = windows(provider);
      const finished = [...counters.byStatus.values()].reduce((a, b) => a + b, 0);
      providers[provider] = {
        requests: counters.requests,
        inFlight: counters.requests - finished,
        byStatus: Object.fromEntries([...counters.byStatus].sort(([a], [b]) => a - b)),
        tokens: { input: counters.inputTokens, output: counters.outputTokens },
        busiestWindow:
          requestsMs === undefined
            ? null
            : { windowMs: requestsMs, requests: busiestCount(counters.arrivals, requestsMs) },
        busiestTokenWindow:
          tokensMs === undefined
            ? null
            : { windowMs: tokensMs, tokens: busiestSum(counters.answered, tokensMs) },
      };
    }
    return { since: this.#since, providers };
  }

  #of(provider: SimProvider): Counters {
    let counters = this.#counters.get(provider);
    if (!counters) {
      counters = {
        requests: 0,
        byStatus: new Map(),
        inputTokens: 0,
        outputTokens: 0,
        arrivals: [],
        answered: [],
      };
      this.#counters.set(provider, counters);
    }
    return counters;
  }
}

/**
 * The most times in any window `[t, t + windowMs)`, the sliding window the limiter uses (a time
 * `windowMs` after another is outside its window). `times` is sorted.
 */
export function busiestCount(times: readonly number[], windowMs: number): number {
  let best = 0;
  let start = 0;
  for (let end = 0; end < times.length; end++) {
    while (times[end]! - times[start]! >= windowMs) start++;
    best = Math.max(best, end - start + 1);
  }
  return best;
}

/** The largest token sum of entries in any window `[t, t + windowMs)`; entries in any order. */
export function busiestSum(entries: readonly { at: number; tokens: number }[], windowMs: number): number {
  const sorted = [...entries].sort((a, b) => a.at - b.at);
  let best = 0;
  let total = 0;
  let start = 0;
  for (const entry of sorted) {
    total += entry.tokens;
    while (entry.at - sorted[start]!.at >= windowMs) total -= sorted[start++]!.tokens;
    best = Math.max(best, total);
  }
  return best;
}
