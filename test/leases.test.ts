import { JOB_CATALOG, type ModelCallPayload } from "@foundry/engine";
import type { QueueEvents } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, startStack } from "./support/stack.ts";
import { callInFlight, eventTypes, requestsFor, until } from "./support/wait.ts";

// Journal leases: a call's request is sent only by the holder of a live lease on its row. A second
// delivery of the same job waits instead of paying again; a lease whose holder stopped renewing it is
// taken over (and the earlier request counted), and the former holder abandons its request. (An answer
// that arrives after the lease passed on is billed, never stored: see outages.test.ts.)
describe("journal leases", () => {
  let stack: Stack;
  let events: QueueEvents;
  beforeAll(async () => {
    stack = await startStack({
      simulator: { latencyMs: { anthropic: 1_500 } },
      durability: { leaseMs: 3_000 },
    });
    events = stack.queues.connection.queueEvents("anthropic");
    await events.waitUntilReady();
  });
  afterAll(async () => {
    await events?.close();
    await stack?.close();
  });

  const secondDelivery = (sessionId: string, key: string, jobId: string) => {
    const payload: ModelCallPayload = { sessionId, phase: "planning", idempotencyKey: key, run: 0 };
    return stack.queues
      .provider("anthropic")
      .add("call planning.backend (second delivery)", payload, { ...JOB_CATALOG.modelCall.options, jobId });
  };

  it("a second delivery while the request is in flight waits for the lease and sends nothing", async () => {
    const id = await stack.submit("Build a todo list app");
    const key = `${id}.planning.backend`;
    await callInFlight(stack, key);

    const duplicate = await secondDelivery(id, key, `${id}.second-delivery`);
    const result = await duplicate.waitUntilFinished(events, 30_000);

    expect(result).toEqual({ idempotencyKey: key, outcome: "reused" });
    expect(requestsFor(stack, key)).toHaveLength(1);
    const session = await stack.waitForSession(id);
    expect(session.status).toBe("succeeded");
    const row = await stack.db.prisma.modelCall.findUniqueOrThrow({ where: { idempotencyKey: key } });
    expect(row).toMatchObject({ status: "succeeded", attempts: 1, leaseOwner: null });
    expect((await eventTypes(stack, id)).filter((type) => type === "call.started")).toHaveLength(
      session.calls.length,
    );
  });

  it("takes over a lease its holder lost: the holder abandons its request, and both requests are counted", async () => {
    stack.sim.configure({ latencyMs: { anthropic: 5_000 } });
    try {
      const id = await stack.submit("Build a todo list app");
      const key = `${id}.planning.backend`;
      await callInFlight(stack, key);
      // The lease passes to someone else (as when the holder is cut off from PostgreSQL long enough):
      // the holder's next renewal finds it gone and abandons the request in flight.
      await stack.db.prisma.modelCall.update({
        where: { idempotencyKey: key },
        data: { leaseOwner: "a-worker-cut-off", leaseExpiresAt: new Date(Date.now() - 1_000) },
      });
      const duplicate = await secondDelivery(id, key, `${id}.takeover`);
      await duplicate.waitUntilFinished(events, 30_000);

      const session = await stack.waitForSession(id, 60_000);
      expect(session.status).toBe("succeeded");
      const requests = requestsFor(stack, key);
      expect(requests.map((request) => request.headers["x-foundry-request-id"])).toEqual([
        `${key}#1`,
        `${key}#2`,
      ]);
      // The first was abandoned before its answer came (had it come, it would be billed as late).
      expect(await eventTypes(stack, id)).not.toContain("call.late_answer");
      const row = await stack.db.prisma.modelCall.findUniqueOrThrow({ where: { idempotencyKey: key } });
      expect(row).toMatchObject({ status: "succeeded", attempts: 2 });
      const started = await stack.db.prisma.sessionEvent.findMany({
        where: { sessionId: id, type: "call.started", phase: "planning" },
      });
      expect(started.filter((event) => event.message.includes("(backend, attempt 2)"))).toHaveLength(1);
      expect(started.some((event) => /stopped renewing its lease/.test(event.message))).toBe(true);
    } finally {
      stack.sim.configure({ latencyMs: { anthropic: 1_500 } });
    }
  });

  it("a delivery that finds the call answered reuses it, and one that finds it failed says how to retry", async () => {
    const id = await stack.submit("Build a todo list app");
    await stack.waitForSession(id);
    const key = `${id}.planning.backend`;
    const again = await secondDelivery(id, key, `${id}.again`);
    expect(await again.waitUntilFinished(events, 20_000)).toEqual({ idempotencyKey: key, outcome: "reused" });

    await stack.db.prisma.modelCall.update({
      where: { idempotencyKey: key },
      data: { status: "failed", error: "gave up" },
    });
    const failed = await secondDelivery(id, key, `${id}.failed`);
    await expect(failed.waitUntilFinished(events, 20_000)).rejects.toThrow(
      /already failed: gave up\. A single job cannot resume a session: retry the session/,
    );
    await until(async () => (await failed.getState()) === "failed", "the job to fail");
    expect(requestsFor(stack, key)).toHaveLength(1);
  });
});
