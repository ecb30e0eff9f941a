import { setTimeout as sleep } from "node:timers/promises";
import { callJobId, phaseJobId } from "@foundry/engine";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, startStack } from "./support/stack.ts";
import { callInFlight, eventTypes, requestsFor, until } from "./support/wait.ts";

// Cancel and retry through the REST API, with real workers and the simulator.
describe("cancel", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ simulator: { latencyMs: { anthropic: 3_000 } } });
  });
  afterAll(() => stack?.close());

  const cancel = (id: string) => stack.request(`/api/sessions/${id}/cancel`, { method: "POST" });

  it("cancels at once, aborts the call in flight, sends nothing more and removes the session's jobs", async () => {
    const id = await stack.submit("Build a todo list app");
    const key = `${id}.planning.backend`;
    await callInFlight(stack, key);

    const response = await cancel(id);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ id, status: "cancelled" });
    const view = await (await stack.request(`/api/sessions/${id}`)).json();
    expect(view).toMatchObject({ status: "cancelled", errorCode: "cancelled", error: "cancelled by a user" });

    const sent = stack.sim.requests().length;
    // Past the 3 s the backend plan needed: had it not been aborted, its answer would have come back.
    await sleep(4_000);
    expect(stack.sim.requests().length).toBe(sent);
    expect(await eventTypes(stack, id)).toContain("session.cancelled");
    // Neither stored nor billed as a late answer: the request was abandoned.
    const answered = await stack.db.prisma.sessionEvent.findMany({
      where: { sessionId: id, phase: "planning", type: { in: ["call.succeeded", "call.late_answer"] } },
    });
    expect(answered.map((event) => (event.data as { callKey: string }).callKey)).not.toContain("backend");
    const backend = await stack.db.prisma.modelCall.findUniqueOrThrow({ where: { idempotencyKey: key } });
    expect(backend).toMatchObject({ status: "cancelled", errorCode: "cancelled", leaseOwner: null });
    const phases = await stack.db.prisma.phaseRun.findMany({
      where: { sessionId: id },
      orderBy: { position: "asc" },
    });
    expect(phases.map((phase) => phase.status).slice(0, 3)).toEqual(["succeeded", "cancelled", "pending"]);
    await until(
      async () =>
        (await stack.queues.get("orchestrator").getJobState(phaseJobId(id, 0, "git"))) === "unknown",
      "the session's jobs to be removed",
    );
    expect(
      await stack.queues.provider("anthropic").getJobState(callJobId(id, 0, "planning", "backend")),
    ).toBe("unknown");
  });

  it("refuses to cancel a session that has ended (409 naming its status) and an unknown one (404)", async () => {
    stack.sim.configure({ latencyMs: { anthropic: null } });
    const id = await stack.submit("Build a todo list app");
    await stack.waitForSession(id);
    const refused = await cancel(id);
    expect(refused.status).toBe(409);
    expect(await refused.json()).toEqual({
      error: {
        code: "CONFLICT",
        message: `session ${id} is succeeded: it cannot be cancelled (only a queued or running session can be cancelled)`,
        details: { status: "succeeded" },
      },
    });
    const unknown = await cancel("9b2f3c1e-0000-4000-8000-000000000000");
    expect(unknown.status).toBe(404);
    expect((await cancel("not-a-session")).status).toBe(404);
  });
});

describe("retry", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(() => stack?.close());

  const retry = (id: string) => stack.request(`/api/sessions/${id}/retry`, { method: "POST" });

  it("resumes a failed session from the phase that did not finish, reusing every answer it has", async () => {
    // The backend implementation is refused once with a bad key: the session fails at once.
    stack.sim.injectFault({
      provider: "anthropic",
      schemaName: "backend_implementation",
      kind: "unauthorized",
      times: 1,
    });
    const id = await stack.submit("Build a todo list app");
    const failed = await stack.waitForSession(id);
    expect(failed).toMatchObject({ status: "failed", errorCode: "config" });
    expect(failed.error).toMatch(
      /^anthropic call implementation\.backend failed: anthropic answered HTTP 401/,
    );
    const before = new Map(
      failed.calls.map((call) => [call.idempotencyKey, requestsFor(stack, call.idempotencyKey).length]),
    );

    // A single job retried by hand (as from Bull Board) cannot resume the session, and says so.
    const job = await stack.queues
      .provider("anthropic")
      .getJob(callJobId(id, 0, "implementation", "backend"));
    expect(await job?.getState()).toBe("failed");
    await job?.retry();
    await until(
      async () => (await job?.getState()) === "failed" && (job?.attemptsMade ?? 0) > 0,
      "the job to fail again",
    );
    await until(async () => {
      const again = await stack.queues
        .provider("anthropic")
        .getJob(callJobId(id, 0, "implementation", "backend"));
      return /retry the session/.test(again?.failedReason ?? "");
    }, "the job's reason to say how to retry");
    expect(requestsFor(stack, `${id}.implementation.backend`)).toHaveLength(
      before.get(`${id}.implementation.backend`) ?? 0,
    );
    expect((await stack.db.prisma.session.findUniqueOrThrow({ where: { id } })).status).toBe("failed");

    const response = await retry(id);
    expect(response.status).toBe(202);
    expect(await response.json()).toMatchObject({ id, status: "queued", run: 1 });
    const session = await stack.waitForSession(id);
    expect(session).toMatchObject({ status: "succeeded", retries: 1, run: 1, error: null, errorCode: null });

    // Finished phases ran once; every call answered before the retry was not sent again.
    for (const phase of session.phases.filter((p) =>
      ["requirements", "planning", "comparison"].includes(p.id),
    )) {
      expect(phase.attempts).toBe(1);
    }
    for (const call of failed.calls.filter((c) => c.status === "succeeded")) {
      expect(requestsFor(stack, call.idempotencyKey)).toHaveLength(before.get(call.idempotencyKey) ?? 0);
    }
    const backend = session.calls.find((call) => call.idempotencyKey === `${id}.implementation.backend`);
    expect(backend).toMatchObject({ status: "succeeded", attempts: 2 });
    const retried = await stack.db.prisma.sessionEvent.findFirst({
      where: { sessionId: id, type: "session.retried" },
    });
    expect(retried?.message).toMatch(/^retry 1: resuming from implementation/);
  });

  it("refuses to retry a session that did not fail or get cancelled (409), and an unknown one (404)", async () => {
    const id = await stack.submit("Build a todo list app");
    await stack.waitForSession(id);
    const refused = await retry(id);
    expect(refused.status).toBe(409);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toBe(
      `session ${id} is succeeded: it cannot be retried (only a failed, cancelled or budget_exceeded session can be retried)`,
    );
    expect((await retry("9b2f3c1e-0000-4000-8000-000000000000")).status).toBe(404);
  });

  it("resumes a cancelled session", async () => {
    stack.sim.configure({ latencyMs: { gemini: 2_000 } });
    try {
      const id = await stack.submit("Build a todo list app");
      await callInFlight(stack, `${id}.planning.frontend`);
      expect((await stack.request(`/api/sessions/${id}/cancel`, { method: "POST" })).status).toBe(200);
      expect((await retry(id)).status).toBe(202);
      const session = await stack.waitForSession(id, 60_000);
      expect(session).toMatchObject({ status: "succeeded", retries: 1 });
      expect(requestsFor(stack, `${id}.requirements.requirements`)).toHaveLength(1);
    } finally {
      stack.sim.configure({ latencyMs: { gemini: null } });
    }
  });
});
