import { JOB_CATALOG, type ModelCallPayload } from "@foundry/engine";
import type { QueueEvents } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, startStack } from "./support/stack.ts";

// The journal: a model call whose answer is stored is never paid for again, however often its job runs.
describe("model-call journal", () => {
  let stack: Stack;
  let events: QueueEvents;
  beforeAll(async () => {
    stack = await startStack();
    events = stack.queues.connection.queueEvents("anthropic");
    await events.waitUntilReady();
  });
  afterAll(async () => {
    await events?.close();
    await stack?.close();
  });

  it("a call job run again after its result was stored makes no second request", async () => {
    const id = await stack.submit("Build a todo list app");
    const session = await stack.waitForSession(id);
    expect(session.status).toBe("succeeded");
    const call = session.calls.find(
      (candidate) => candidate.phase === "planning" && candidate.provider === "anthropic",
    );
    expect(call).toBeDefined();
    const served = stack.sim.requests().length;
    const before = await stack.db.prisma.modelCall.findUniqueOrThrow({
      where: { idempotencyKey: call!.idempotencyKey },
    });

    // The same call delivered again (as after a crash between "answered" and "job completed", a stall, or a retry).
    const payload: ModelCallPayload = {
      sessionId: id,
      phase: "planning",
      idempotencyKey: call!.idempotencyKey,
    };
    const job = await stack.queues
      .provider("anthropic")
      .add("call planning.backend (re-delivered)", payload, {
        ...JOB_CATALOG.modelCall.options,
        jobId: `${id}.redelivered`,
      });
    const result = await job.waitUntilFinished(events, 20_000);

    expect(result).toEqual({ idempotencyKey: call!.idempotencyKey, outcome: "reused" });
    expect(stack.sim.requests().length).toBe(served);
    const after = await stack.db.prisma.modelCall.findUniqueOrThrow({
      where: { idempotencyKey: call!.idempotencyKey },
    });
    expect(after.attempts).toBe(before.attempts);
    expect(after.inputTokens).toBe(before.inputTokens);
    expect(after.costUsd.toString()).toBe(before.costUsd.toString());
    const totals = await stack.db.prisma.session.findUniqueOrThrow({ where: { id } });
    expect(totals.inputTokens).toBe(session.totals.inputTokens);
    const reused = await stack.db.prisma.sessionEvent.count({
      where: { sessionId: id, type: "call.reused" },
    });
    expect(reused).toBe(1);
  });

  it("a provider error is retried by the queue, and only the successful answer is kept", async () => {
    stack.sim.injectFault({
      provider: "gemini",
      schemaName: "frontend_plan",
      kind: "server_error",
      status: 503,
      times: 2,
    });
    const id = await stack.submit("Build a todo list app");
    const session = await stack.waitForSession(id);
    expect(session.status).toBe("succeeded");
    const call = session.calls.find(
      (candidate) => candidate.callKey === "frontend" && candidate.phase === "planning",
    );
    expect(call).toMatchObject({ status: "succeeded", attempts: 3, error: null });
    const retries = await stack.db.prisma.sessionEvent.findMany({
      where: { sessionId: id, type: "call.retrying" },
    });
    expect(retries).toHaveLength(2);
    expect(retries[0]?.message).toMatch(/gemini/);
    const wire = stack.sim.requests({ provider: "gemini", schemaName: "frontend_plan" }).slice(-3);
    expect(wire.map((request) => request.status)).toEqual([503, 503, 200]);
  });

  it("a non-retryable provider error fails the session with a clear reason, without retries", async () => {
    stack.sim.injectFault({ provider: "openai", schemaName: "requirements", kind: "unauthorized", times: 1 });
    const before = stack.sim.requests({ schemaName: "requirements" }).length;
    const id = await stack.submit("Build a todo list app");
    const session = await stack.waitForSession(id);
    expect(session.status).toBe("failed");
    expect(session.error).toMatch(/^openai call requirements\.requirements failed: .*openai/);
    expect(session.error).not.toContain("sim-openai-key");
    expect(stack.sim.requests({ schemaName: "requirements" }).length).toBe(before + 1);
    expect(session.phases[0]).toMatchObject({ id: "requirements", status: "failed" });
    expect(session.phases.slice(1).every((phase) => phase.status === "pending")).toBe(true);
  });
});
