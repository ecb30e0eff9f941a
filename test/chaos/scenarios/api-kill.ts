// kill -9 of the API during a burst of submissions (a request in flight may have inserted its
// session without adding its flow), plus sessions inserted without a flow on purpose: the state a
// crash right after the insert leaves, which only a reconciler can pick up.
import { pick, type Scenario } from "../scenario.ts";

const SHAPE = {
  full: { burst: 12, everyMs: 150, orphans: 3, after: 2 },
  quick: { burst: 8, everyMs: 150, orphans: 2, after: 1 },
};
const API_DOWN_MS = 2_000;

export const apiKill: Scenario = {
  name: "api-kill",
  title: "API killed between insert and flow",
  forms: ["full", "quick"],
  recoveryMs: { full: 90_000, quick: 90_000 },
  async run(ctx) {
    const { burst, everyMs, orphans, after } = pick(SHAPE, ctx.quick);
    ctx.workload.submit(burst, everyMs);
    // Killed once the API has taken a few, while the next ones are in flight.
    await ctx.workload.untilAccepted(2, 30_000);
    ctx.faultStarted(
      `kill -9 of the API mid-burst (down ${API_DOWN_MS / 1000} s), ${orphans} sessions without a flow`,
    );
    const kill = ctx.cluster.killApi(API_DOWN_MS);
    ctx.say(kill ? `kill -9 api (pid ${kill.pid})` : "the API was not running");
    await ctx.workload.insertWithoutFlow(orphans);
    await ctx.sleep(API_DOWN_MS);
    await ctx.cluster.waitForApi();
    ctx.faultEnded();
    // The API takes work again after its restart.
    ctx.workload.submit(after, 200);
  },
};
