// A provider answers its real quota error for a while (OpenAI: 429 `insufficient_quota`, no
// retry-after; the simulator's quota fault). A quota is not a rate limit: retrying the same provider
// does not help until someone pays. With OpenAI alone out of quota, calls fall back along their
// role's route and the sessions should succeed; with every provider out, the sessions that hit it
// should fail with a reason that names the quota (code quota), and none should hang.
import { pick, type Scenario } from "../scenario.ts";

/** `quota-429` (OpenAI only) or `quota-429-all` (every provider). */
export function quota429(scope: "openai" | "all"): Scenario {
  return {
    name: scope === "openai" ? "quota-429" : "quota-429-all",
    title: `quota exhausted (429 insufficient_quota and the like) on ${scope === "openai" ? "OpenAI" : "every provider"}`,
    forms: ["full"],
    recoveryMs: { full: 90_000, quick: 60_000 },
    async run(ctx) {
      const quotaMs = pick({ full: 15_000, quick: 8_000 }, ctx.quick);
      const sessions = pick({ full: 8, quick: 4 }, ctx.quick);
      ctx.workload.submit(sessions, 400);
      // Past the first (OpenAI) call: the quota hits sessions at their next calls.
      await ctx.untilCallsStarted(sessions + 2);
      ctx.faultStarted(`quota exhausted for ${quotaMs / 1000} s`);
      const every = Number.POSITIVE_INFINITY;
      if (scope === "openai")
        ctx.services.sim.injectFault({ kind: "quota", provider: "openai", times: every });
      else ctx.services.sim.injectFault({ kind: "quota", times: every });
      await ctx.sleep(quotaMs);
      ctx.services.sim.clearFaults();
      ctx.faultEnded();
    },
  };
}
