// kill -9 of a random worker every few seconds while sessions run; each killed worker is started
// again a second later (as a supervisor would). Its jobs come back through BullMQ's stalled-job check
// and its calls through their leases: within about twice JOB_LOCK_MS (30 s by default, a minute or
// more on a loaded machine), so the bound is 2 minutes. The quick form sets JOB_LOCK_MS and
// CALL_LEASE_MS to 10 s (as a user may) to stay short.
import { pick, type Scenario } from "../scenario.ts";

const SHAPE = {
  full: { sessions: 10, kills: 8, everyMs: 4_000 },
  quick: { sessions: 5, kills: 3, everyMs: 3_000 },
};

export const workerKill: Scenario = {
  name: "worker-kill",
  title: "kill -9 of a random worker every few seconds",
  forms: ["full", "quick"],
  env: (_services, quick): Record<string, string> =>
    quick ? { JOB_LOCK_MS: "10000", CALL_LEASE_MS: "10000" } : {},
  recoveryMs: { full: 120_000, quick: 120_000 },
  async run(ctx) {
    const { sessions, kills, everyMs } = pick(SHAPE, ctx.quick);
    ctx.workload.submit(sessions, Math.round((kills * everyMs) / sessions));
    await ctx.untilCallsStarted(2);
    ctx.faultStarted(`${kills} × kill -9, one every ${everyMs / 1000} s`);
    for (let index = 0; index < kills; index++) {
      if (index > 0) await ctx.sleep(everyMs);
      const kill = ctx.cluster.killRandomWorker(ctx.random, 1_000);
      ctx.say(kill ? `kill -9 ${kill.name} (pid ${kill.pid})` : "no worker running to kill");
    }
    ctx.faultEnded();
  },
};
