// OpenAI answers 429 `insufficient_quota` (no retry-after; the simulator's quota fault) for a while:
// a quota is not a rate limit, retrying does not help until someone pays, so the sessions that hit
// it should fail with a reason that says so (code quota), and the others should not.
import { pick, type Scenario } from "../scenario.ts";

export const quota429: Scenario = {
  name: "quota-429",
  title: "OpenAI 429 insufficient_quota (no retry-after)",
  forms: ["full"],
  recoveryMs: { full: 90_000, quick: 60_000 },
  async run(ctx) {
    const quotaMs = pick({ full: 15_000, quick: 8_000 }, ctx.quick);
    const sessions = pick({ full: 8, quick: 4 }, ctx.quick);
    ctx.workload.submit(sessions, 400);
    // Past the first (OpenAI) call: the quota hits sessions at their next OpenAI call.
    await ctx.untilCallsStarted(sessions + 2);
    ctx.faultStarted(`OpenAI quota exhausted for ${quotaMs / 1000} s`);
    ctx.services.sim.injectFault({ kind: "quota", provider: "openai", times: Number.POSITIVE_INFINITY });
    await ctx.sleep(quotaMs);
    ctx.services.sim.clearFaults();
    ctx.faultEnded();
  },
};
