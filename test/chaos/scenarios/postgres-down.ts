// PostgreSQL stopped (fast shutdown: every connection cut) for a while, then started again on the
// same port and data. Calls in flight get their answers while the journal cannot be written.
import type { Scenario } from "../scenario.ts";

/** `postgres-down-<seconds>s`, in the given forms. */
export function postgresDown(seconds: number, forms: Scenario["forms"]): Scenario {
  return {
    name: `postgres-down-${seconds}s`,
    title: `PostgreSQL down for ${seconds} s`,
    forms,
    recoveryMs: { full: 120_000, quick: 90_000 },
    async run(ctx) {
      const sessions = ctx.quick ? 5 : 8;
      ctx.workload.submit(sessions, 400);
      // Most sessions past their first call, some calls in flight.
      await ctx.untilCallsStarted(sessions + 2);
      ctx.faultStarted(`PostgreSQL down for ${seconds} s`);
      await ctx.services.postgres.stop();
      await ctx.sleep(seconds * 1000);
      await ctx.services.postgres.start();
      ctx.faultEnded();
    },
  };
}
