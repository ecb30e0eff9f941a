import { setTimeout as sleep } from "node:timers/promises";
import {
  coordinationFor,
  JOB_CATALOG,
  type ModelCallPayload,
  startWorkers,
  type WorkerPool,
} from "@foundry/engine";
import type { QueueEvents } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, startStack } from "./support/stack.ts";
import { startTcpProxy, type TcpProxy } from "./support/tcp-proxy.ts";
import { callInFlight, eventTypes, requestsFor, until } from "./support/wait.ts";

// Infrastructure faults are not provider faults. The workers reach PostgreSQL through a TCP proxy the
// test cuts (connections dropped, new ones refused), as when the database goes away; the API and the
// test keep a direct connection.
async function proxiedStack(durability: Stack["deps"]["durability"]) {
  let proxy: TcpProxy | undefined;
  const stack = await startStack({
    simulator: { latencyMs: { anthropic: 2_000 } },
    durability,
    workerDatabaseUrl: (url) => {
      if (!proxy) throw new Error("proxy not started");
      return proxy.rewrite(url);
    },
    // The reconciler runs in the workers, behind the proxy too.
    reconciler: { intervalMs: 500, graceMs: 2_000 },
    beforeWorkers: async (databaseUrl) => {
      const target = new URL(databaseUrl);
      proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
    },
  });
  return { stack, proxy: proxy as unknown as TcpProxy };
}

describe("PostgreSQL away for a few seconds", () => {
  let stack: Stack;
  let proxy: TcpProxy;
  beforeAll(async () => {
    ({ stack, proxy } = await proxiedStack({ leaseMs: 20_000, outageTimeoutMs: 60_000 }));
  });
  afterAll(async () => {
    await stack?.close();
    await proxy?.close();
  });

  it("keeps an answer received meanwhile, stores it once the database is back, and uses no attempt", async () => {
    const id = await stack.submit("Build a todo list app");
    const key = `${id}.planning.backend`;
    await callInFlight(stack, key);
    proxy.cut();
    // The answer arrives (after 2 s) while the database is away; its write waits and is retried.
    await sleep(4_000);
    proxy.restore();

    const session = await stack.waitForSession(id, 60_000);
    expect(session.status).toBe("succeeded");
    expect(requestsFor(stack, key)).toHaveLength(1);
    expect(session.calls.every((call) => call.attempts === 1)).toBe(true);
    const types = await eventTypes(stack, id);
    expect(types).not.toContain("call.retrying");
    expect(types).not.toContain("call.failed");
    const billed = session.calls.reduce((sum, call) => sum + call.inputTokens, 0);
    expect(session.totals.inputTokens).toBe(billed);
  });
});

describe("PostgreSQL away for longer than INFRA_OUTAGE_TIMEOUT_MS", () => {
  let stack: Stack;
  let proxy: TcpProxy;
  beforeAll(async () => {
    ({ stack, proxy } = await proxiedStack({ leaseMs: 20_000, outageTimeoutMs: 1_500 }));
  });
  afterAll(async () => {
    await stack?.close();
    await proxy?.close();
  });

  it("fails the session with a reason that names the database, not the provider", async () => {
    const id = await stack.submit("Build a todo list app");
    await callInFlight(stack, `${id}.planning.backend`);
    proxy.cut();
    await sleep(5_000);
    proxy.restore();

    const session = await stack.waitForSession(id, 60_000);
    expect(session.status).toBe("failed");
    expect(session.errorCode).toBe("database");
    // It leads with the database; the call it happened during is context, not the culprit. Both
    // planning calls run at once: on a loaded machine the gemini one may still be storing its answer
    // when the database goes, and meet the outage first.
    expect(session.error).toMatch(
      /^PostgreSQL unreachable for \d+ s: .*\(during (anthropic call planning\.backend|gemini call planning\.frontend)\)$/,
    );
  });
});

describe("an answer that arrives after its lease passed to another delivery", () => {
  let stack: Stack;
  let proxy: TcpProxy;
  let other: WorkerPool | undefined;
  let events: QueueEvents;
  beforeAll(async () => {
    ({ stack, proxy } = await proxiedStack({ leaseMs: 2_000, outageTimeoutMs: 60_000 }));
    stack.sim.configure({ latencyMs: { anthropic: 4_000 } });
    events = stack.queues.connection.queueEvents("anthropic");
    await events.waitUntilReady();
  });
  afterAll(async () => {
    await other?.close(2_000);
    await events?.close();
    await stack?.close();
    await proxy?.close();
  });

  it("is billed to the call and never stored as a second answer", { timeout: 240_000 }, async () => {
    const id = await stack.submit("Build a todo list app");
    const key = `${id}.planning.backend`;
    await callInFlight(stack, key);
    // The holder is cut off from PostgreSQL: it cannot renew its lease, which runs out. (Its BullMQ
    // worker stops taking jobs, so the second delivery goes to the other worker; its call goes on.)
    proxy.cut();
    await stack.pool?.workers.find((worker) => worker.name === "anthropic")?.close(true);
    await sleep(2_500);
    // A second delivery, handled by another worker that does reach PostgreSQL, takes the lease over.
    other = await startWorkers({
      // All of it on a direct connection: with the queues on PostgreSQL, the limiter and the breaker
      // live there too, and the stack's own ones go through the cut proxy.
      deps: {
        ...stack.deps,
        db: stack.db.prisma,
        ...coordinationFor(stack.queues, stack.db.prisma),
        worker: { host: "worker-b", pid: process.pid },
      },
      queues: ["anthropic"],
      concurrency: {},
      reconciler: false,
    });
    const payload: ModelCallPayload = { sessionId: id, phase: "planning", idempotencyKey: key, run: 0 };
    const duplicate = await stack.queues
      .provider("anthropic")
      .add("call planning.backend (second delivery)", payload, {
        ...JOB_CATALOG.modelCall.options,
        jobId: `${id}.second`,
      });
    await until(() => requestsFor(stack, key).length === 2, "the second request");
    // The first answer (4 s) arrives while the holder is still cut off; then PostgreSQL comes back.
    await sleep(2_000);
    proxy.restore();
    await duplicate.waitUntilFinished(events, 30_000);

    // The holder's own job was left active by its closed worker: it comes back once its lock has
    // expired and the stalled-job check has run (BullMQ on PostgreSQL checks less often than on Redis).
    const session = await stack.waitForSession(id, 150_000);
    expect(session.status).toBe("succeeded");
    const row = await stack.db.prisma.modelCall.findUniqueOrThrow({ where: { idempotencyKey: key } });
    expect(row).toMatchObject({ status: "succeeded", attempts: 2, workerHost: "worker-b" });
    const answers = await stack.db.prisma.sessionEvent.findMany({
      where: { sessionId: id, phase: "planning", type: { in: ["call.succeeded", "call.late_answer"] } },
      orderBy: { id: "asc" },
    });
    const backend = answers.filter((event) => (event.data as { callKey: string }).callKey === "backend");
    expect(backend.map((event) => event.type).sort()).toEqual(["call.late_answer", "call.succeeded"]);
    // Both answers were billed and both count.
    const billed = backend.reduce(
      (sum, event) => sum + (event.data as { inputTokens: number }).inputTokens,
      0,
    );
    expect(row.inputTokens).toBe(billed);
  });
});
