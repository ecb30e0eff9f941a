import { randomUUID } from "node:crypto";
import { insertSession, Reconciler, silentLogger } from "@foundry/engine";
import { WorkflowCatalog } from "@foundry/workflow";
import { UnrecoverableError } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { forgetQueueContents } from "./support/queues.ts";
import { type Stack, startStack, WORKFLOWS_DIR } from "./support/stack.ts";
import { callInFlight, eventTypes, requestsFor } from "./support/wait.ts";

// The reconciler compares PostgreSQL with the queue and repairs what does not match. These tests
// break the queue side on purpose: its keys deleted under a running session (as after a Redis
// FLUSHALL), a session whose flow was never added (an API that died between the insert and the add),
// a root job failed without anyone recording why, and a session that stopped making progress.
describe("reconciler", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ simulator: { latencyMs: { anthropic: 1_500, gemini: 300 } } });
  });
  afterAll(() => stack?.close());

  it("re-queues a running session whose jobs vanished from Redis; nothing answered is paid again", async () => {
    const id = await stack.submit("Build a todo list app");
    await callInFlight(stack, `${id}.planning.backend`);
    // FLUSHALL, for this test's queues only: the flow, the call jobs, the limiter state.
    await forgetQueueContents(stack.queues);

    const session = await stack.waitForSession(id, 90_000);
    expect(session.status).toBe("succeeded");
    expect(session.run).toBeGreaterThanOrEqual(1);
    expect(await eventTypes(stack, id)).toContain("session.requeued");
    // Each call was sent once: answers already journaled (or in flight under a lease) were reused.
    for (const call of session.calls) expect(requestsFor(stack, call.idempotencyKey)).toHaveLength(1);
  });

  it("queues a session that was recorded but never queued (the API died between insert and add)", async () => {
    const workflows = await WorkflowCatalog.load(WORKFLOWS_DIR);
    const id = randomUUID();
    // What submitSession writes before it adds the flow.
    await insertSession(stack.db.prisma, {
      id,
      request: "Build a todo list app",
      workflowName: "software-project",
      workflow: workflows.get("software-project"),
      publish: false,
      repoName: null,
    });
    const session = await stack.waitForSession(id, 90_000);
    expect(session.status).toBe("succeeded");
    const requeued = await stack.db.prisma.sessionEvent.findFirst({
      where: { sessionId: id, type: "session.requeued" },
    });
    expect(requeued?.message).toMatch(/its jobs are missing from the queue/);
  });

  it("records why a session failed when its root job failed and nobody said why", async () => {
    const quiet = await startStack({ workers: false });
    const stray = quiet.queues.worker(
      "orchestrator",
      async () => {
        throw new UnrecoverableError("the disk is full");
      },
      {},
    );
    try {
      const id = await quiet.submit("Build a todo list app");
      await expect.poll(async () => (await quiet.queues.get("orchestrator").getFailedCount()) > 0).toBe(true);
      // The first phase failed and, through failParentOnFailure, every phase after it: Postgres still
      // says queued. (A stray worker that records nothing stands for a worker whose database was away.)
      await expect
        .poll(async () => quiet.queues.get("orchestrator").getJobState(`${id}.0.git`), { timeout: 10_000 })
        .toBe("failed");
      expect((await quiet.db.prisma.session.findUniqueOrThrow({ where: { id } })).status).toBe("queued");

      const report = await new Reconciler(quiet.deps, { graceMs: 0 }).reconcile();
      expect(report.failed).toEqual([id]);
      const session = await quiet.db.prisma.session.findUniqueOrThrow({ where: { id } });
      expect(session).toMatchObject({ status: "failed", errorCode: "internal" });
      expect(session.error).toBe("phase requirements failed: the disk is full");
    } finally {
      await stray.close();
      await quiet.close();
    }
  });

  it("fails a session that makes no progress for SESSION_TIMEOUT with reason deadline", async () => {
    stack.sim.injectFault({ provider: "openai", schemaName: "requirements", kind: "hang", times: 1 });
    const id = await stack.submit("Build a todo list app");
    await callInFlight(stack, `${id}.requirements.requirements`);
    await stack.db.prisma.session.update({
      where: { id },
      data: { progressAt: new Date(Date.now() - 2 * 3_600_000) },
    });

    const report = await new Reconciler(stack.deps, { sessionTimeoutMs: 3_600_000 }).reconcile();
    expect(report.deadline).toContain(id);
    const session = await stack.waitForSession(id);
    expect(session).toMatchObject({ status: "failed", errorCode: "deadline" });
    expect(session.error).toMatch(/^deadline: no progress for 60 min/);
    // The call in flight lost its lease (the session failed) and was abandoned.
    const row = await stack.db.prisma.modelCall.findUniqueOrThrow({
      where: { idempotencyKey: `${id}.requirements.requirements` },
    });
    expect(row.status).toBe("failed");
  });

  it("runs in one process of the cluster at a time", async () => {
    const a = new Reconciler(stack.deps, { intervalMs: 60_000 });
    const b = new Reconciler(stack.deps, { intervalMs: 60_000 });
    // The stack's own reconciler may lead already; release it for this check.
    await stack.pool?.reconciler?.stop();
    await stack.db.prisma.leaderLease.deleteMany({});
    try {
      expect(await a.tick()).not.toBeNull();
      expect(await b.tick()).toBeNull();
      expect(await a.tick()).not.toBeNull();
      await a.stop();
      expect(await b.tick()).not.toBeNull();
    } finally {
      await b.stop();
      stack.pool?.reconciler?.start();
    }
  });
  it("prunes the spend per minute older than a day at its first pass, and not again before housekeeping is due", async () => {
    const addOldSpend = () => stack.db.prisma.$executeRaw`
      INSERT INTO spend_minute_shards (minute, shard, usd)
      VALUES (date_trunc('minute', now() - interval '2 days'), 3, 1) ON CONFLICT DO NOTHING`;
    const reconciler = new Reconciler(stack.deps, { intervalMs: 60_000, housekeepingEveryMs: 3_600_000 });
    // The stack's own reconciler may lead (and prune) already; release it for this check.
    await stack.pool?.reconciler?.stop();
    await stack.db.prisma.leaderLease.deleteMany({});
    try {
      await addOldSpend();
      expect(await reconciler.tick()).toMatchObject({ prunedSpend: 1, cappedJobs: 0 });
      await addOldSpend();
      // Not due again before an hour has passed.
      expect((await reconciler.tick())?.prunedSpend).toBe(0);
      const left = await stack.db.prisma.$queryRaw<Array<{ n: number }>>`
        SELECT count(*)::int AS n FROM spend_minute_shards WHERE minute < now() - interval '1 day'`;
      expect(left[0]?.n).toBe(1);
      // Only the leader prunes: another process's pass (not leading) does nothing.
      const other = new Reconciler(stack.deps, { intervalMs: 60_000, housekeepingEveryMs: 0 });
      expect(await other.tick()).toBeNull();
      await other.stop();
    } finally {
      await reconciler.stop();
      stack.pool?.reconciler?.start();
    }
  });
  it("keeps its pass's report when housekeeping fails, says why, and tries again at the next pass", async () => {
    // The stack's queues, whose capFinishedJobs fails once (as it would with the queue store away).
    let failures = 1;
    const queues = new Proxy(stack.deps.queues, {
      get(target, prop) {
        if (prop === "capFinishedJobs" && failures > 0) {
          return async () => {
            failures -= 1;
            throw new Error("queue store unreachable");
          };
        }
        const value = Reflect.get(target, prop, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const said: string[] = [];
    const log = {
      ...silentLogger,
      warn: (_: object, message?: string) => said.push(`warn ${message}`),
      error: (_: object, message?: string) => said.push(`error ${message}`),
    };
    const reconciler = new Reconciler(
      { ...stack.deps, queues, log },
      { intervalMs: 60_000, housekeepingEveryMs: 3_600_000 },
    );
    await stack.pool?.reconciler?.stop();
    await stack.db.prisma.leaderLease.deleteMany({});
    const addOldSpend = () => stack.db.prisma.$executeRaw`
      INSERT INTO spend_minute_shards (minute, shard, usd)
      VALUES (date_trunc('minute', now() - interval '3 days'), 5, 1) ON CONFLICT DO NOTHING`;
    try {
      // What an earlier test left aside, so that the counts below are this test's.
      await stack.db.prisma
        .$executeRaw`DELETE FROM spend_minute_shards WHERE minute < now() - interval '1 day'`;
      await addOldSpend();
      const first = await reconciler.tick();
      expect(first).toMatchObject({ prunedSpend: 1, cappedJobs: 0 });
      expect(first?.checked).toBeGreaterThanOrEqual(0);
      expect(said).toEqual(["error housekeeping: could not cap the finished jobs"]);
      // Not done, so due again at the next pass, although housekeepingEveryMs has not passed.
      await addOldSpend();
      expect(await reconciler.tick()).toMatchObject({ prunedSpend: 1, cappedJobs: 0 });
      expect(said).toHaveLength(1);
      // Done now: not due before an hour.
      await addOldSpend();
      expect(await reconciler.tick()).toMatchObject({ prunedSpend: 0 });
    } finally {
      await reconciler.stop();
      stack.pool?.reconciler?.start();
    }
  });
});
