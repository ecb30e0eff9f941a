// FLUSHALL while sessions are in flight: every job, flow and lock is gone from Redis at once, while
// Postgres still says the sessions are running. Only a reconciler can bring them back.
import { pick, type Scenario } from "../scenario.ts";

export const redisFlushall: Scenario = {
  name: "redis-flushall",
  title: "Redis FLUSHALL mid-run",
  forms: ["full", "quick"],
  needs: ["redis"],
  recoveryMs: { full: 90_000, quick: 90_000 },
  async run(ctx) {
    const redis = ctx.services.backend.redis;
    if (!redis) throw new Error("redis-flushall needs the redis backend");
    const sessions = pick({ full: 10, quick: 5 }, ctx.quick);
    ctx.workload.submit(sessions, 400);
    // Most sessions past their first call, some calls in flight.
    await ctx.untilCallsStarted(sessions + 2);
    ctx.faultStarted("FLUSHALL");
    await redis.flushAll();
    ctx.faultEnded();
  },
};
