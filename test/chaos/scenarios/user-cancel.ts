// People cancel sessions while their calls are in flight, and retry one of them: cancelled sessions
// end `cancelled` at once (their requests aborted, their jobs removed), the others are not disturbed,
// and the retried one resumes from the phase that did not finish.
import { pick, type Scenario } from "../scenario.ts";

export const userCancel: Scenario = {
  name: "user-cancel",
  title: "users cancel sessions mid-run and retry one",
  forms: ["full"],
  recoveryMs: { full: 90_000, quick: 60_000 },
  async run(ctx) {
    const sessions = pick({ full: 8, quick: 4 }, ctx.quick);
    const cancels = pick({ full: 3, quick: 2 }, ctx.quick);
    ctx.workload.submit(sessions, 300);
    await ctx.workload.untilAccepted(sessions, 30_000);
    await ctx.untilCallsStarted(sessions + 2);
    ctx.faultStarted(`${cancels} sessions cancelled, then one of them retried`);
    const ids = ctx.workload.submissions.flatMap((submission) => (submission.id ? [submission.id] : []));
    const victims = ids.sort(() => ctx.random() - 0.5).slice(0, cancels);
    await Promise.all(victims.map((id) => ctx.workload.cancel(id)));
    await ctx.sleep(2_000);
    if (victims[0]) await ctx.workload.retry(victims[0]);
    ctx.faultEnded();
  },
};
