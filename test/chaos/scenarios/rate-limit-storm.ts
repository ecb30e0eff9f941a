// A storm of 429s from every provider, with `retry-after: 2` or without any retry-after header (as
// some proxies and OpenAI-compatible servers send them).
import { pick, type Scenario } from "../scenario.ts";

const STORM_MS = { full: 20_000, quick: 10_000 };
const PROBABILITY = 0.6;

/** `rate-limit-storm` (retry-after: 2 s) or `rate-limit-storm-no-retry-after`. */
export function rateLimitStorm(withRetryAfter: boolean, forms: Scenario["forms"]): Scenario {
  return {
    name: withRetryAfter ? "rate-limit-storm" : "rate-limit-storm-no-retry-after",
    title: `429 storm ${withRetryAfter ? "with retry-after: 2" : "without retry-after"} (${PROBABILITY * 100}% of requests)`,
    forms,
    recoveryMs: { full: 90_000, quick: 60_000 },
    async run(ctx) {
      const stormMs = pick(STORM_MS, ctx.quick);
      const sessions = pick({ full: 10, quick: 5 }, ctx.quick);
      ctx.workload.submit(sessions, Math.round(stormMs / 2 / sessions));
      await ctx.untilCallsStarted(2);
      ctx.faultStarted(`429s for ${stormMs / 1000} s`);
      ctx.services.sim.injectFault({
        kind: "rate_limit",
        retryAfterSeconds: withRetryAfter ? 2 : null,
        probability: PROBABILITY,
        times: Number.POSITIVE_INFINITY,
      });
      await ctx.sleep(stormMs);
      ctx.services.sim.clearFaults();
      ctx.faultEnded();
    },
  };
}
