// Provider requests that never answer (the simulator's hang fault), ended by CALL_TIMEOUT_MS.
import { pick, type Scenario } from "../scenario.ts";

const CALL_TIMEOUT_MS = 3_000;

export const timeouts: Scenario = {
  name: "timeouts",
  title: `provider timeouts (40% of requests hang; CALL_TIMEOUT_MS=${CALL_TIMEOUT_MS})`,
  forms: ["full"],
  env: () => ({ CALL_TIMEOUT_MS: String(CALL_TIMEOUT_MS) }),
  recoveryMs: { full: 90_000, quick: 60_000 },
  async run(ctx) {
    const faultMs = pick({ full: 20_000, quick: 10_000 }, ctx.quick);
    const sessions = pick({ full: 8, quick: 4 }, ctx.quick);
    ctx.workload.submit(sessions, Math.round(faultMs / 2 / sessions));
    await ctx.untilCallsStarted(2);
    ctx.faultStarted(`hanging requests for ${faultMs / 1000} s`);
    ctx.services.sim.injectFault({ kind: "hang", probability: 0.4, times: Number.POSITIVE_INFINITY });
    await ctx.sleep(faultMs);
    ctx.services.sim.clearFaults();
    ctx.faultEnded();
  },
};
