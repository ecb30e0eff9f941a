// Redis stopped (SIGTERM: it writes its append-only file) and started again on the same port and
// data directory: the jobs survive, connections drop and come back.
import { pick, type Scenario } from "../scenario.ts";

export const redisRestart: Scenario = {
  name: "redis-restart",
  title: "Redis stopped and started again (AOF kept)",
  forms: ["full"],
  needs: ["redis"],
  recoveryMs: { full: 90_000, quick: 60_000 },
  async run(ctx) {
    const redis = ctx.services.backend.redis;
    if (!redis) throw new Error("redis-restart needs the redis backend");
    const downMs = pick({ full: 10_000, quick: 5_000 }, ctx.quick);
    const sessions = pick({ full: 10, quick: 5 }, ctx.quick);
    ctx.workload.submit(sessions, 400);
    await ctx.untilCallsStarted(sessions + 2);
    ctx.faultStarted(`Redis down for ${downMs / 1000} s`);
    await redis.stop();
    await ctx.sleep(downMs);
    await redis.start();
    ctx.faultEnded();
  },
};
