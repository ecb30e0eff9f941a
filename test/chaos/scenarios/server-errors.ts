// A storm of 5xx answers from every provider: 500s and overloaded (503, Anthropic 529).
import { pick, type Scenario } from "../scenario.ts";

export const serverErrors: Scenario = {
  name: "server-errors",
  title: "5xx storm (500 and 503/529, about half of requests)",
  forms: ["full", "quick"],
  recoveryMs: { full: 90_000, quick: 60_000 },
  async run(ctx) {
    const stormMs = pick({ full: 20_000, quick: 10_000 }, ctx.quick);
    const sessions = pick({ full: 10, quick: 5 }, ctx.quick);
    ctx.workload.submit(sessions, Math.round(stormMs / 2 / sessions));
    await ctx.untilCallsStarted(2);
    ctx.faultStarted(`5xx for ${stormMs / 1000} s`);
    const every = Number.POSITIVE_INFINITY;
    ctx.services.sim.injectFault({ kind: "server_error", probability: 0.3, times: every });
    ctx.services.sim.injectFault({ kind: "overloaded", probability: 0.3, times: every });
    await ctx.sleep(stormMs);
    ctx.services.sim.clearFaults();
    ctx.faultEnded();
  },
};
