import { setTimeout as sleep } from "node:timers/promises";
import { callJobId } from "@foundry/engine";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, startStack } from "./support/stack.ts";
import { startWorkerProcess, type WorkerProcess, waitUntilConsuming } from "./support/worker-process.ts";

// The worker as an OS process: SIGTERM lets the call in flight finish and be journaled, then the
// process exits; a new worker finishes the session, and no call is paid for twice.
describe("worker process", () => {
  let stack: Stack;
  const workers: WorkerProcess[] = [];
  beforeAll(async () => {
    stack = await startStack({ workers: false, simulator: { latencyMs: { anthropic: 1_500 } } });
  });
  afterAll(async () => {
    await Promise.all(workers.map((worker) => worker.stop(2_000)));
    await stack?.close();
  });

  it("drains in-flight calls on SIGTERM, exits 0, and another worker finishes without paying twice", async () => {
    const first = startWorkerProcess(stack, ["--queues", "all"]);
    workers.push(first);
    await waitUntilConsuming(first);
    const id = await stack.submit("Build a todo list app");

    // Wait until the backend plan is in flight at the simulator (1.5 s of latency).
    const deadline = Date.now() + 20_000;
    while (
      !stack.sim.requests({ provider: "anthropic", schemaName: "backend_plan" }).some((r) => r.status === 0)
    ) {
      if (Date.now() > deadline) throw new Error(`no anthropic call in flight:\n${first.output()}`);
      await sleep(20);
    }
    expect(await first.stop()).toBe(0);
    expect(first.output()).toContain("SIGTERM: shutting down");
    expect(first.output()).toContain("workers closed");

    // The call that was in flight finished and was journaled before the process exited.
    const backend = await stack.db.prisma.modelCall.findUniqueOrThrow({
      where: { idempotencyKey: `${id}.planning.backend` },
    });
    expect(backend).toMatchObject({ status: "succeeded", attempts: 1, workerPid: first.pid });
    expect((await stack.db.prisma.session.findUniqueOrThrow({ where: { id } })).status).toBe("running");

    const second = startWorkerProcess(stack, ["--queues", "all"]);
    workers.push(second);
    const session = await stack.waitForSession(id, 60_000);
    expect(session.status).toBe("succeeded");

    // Exactly one successful request per journaled call: nothing was paid twice.
    const served = stack.sim.requests().filter((request) => request.status === 200);
    expect(served).toHaveLength(session.calls.length);
    const workersUsed = new Set(session.calls.map((call) => call.worker?.pid));
    expect(workersUsed).toEqual(new Set([first.pid, second.pid]));
    await second.stop();
  });

  it("hands a call still in flight after SHUTDOWN_TIMEOUT_MS back to the queue without using an attempt", async () => {
    stack.sim.configure({ latencyMs: { gemini: 8_000 } });
    try {
      const first = startWorkerProcess(stack, ["--queues", "all"], { SHUTDOWN_TIMEOUT_MS: "300" });
      workers.push(first);
      await waitUntilConsuming(first);
      const id = await stack.submit("Build a todo list app");
      const key = `${id}.planning.frontend`;
      const deadline = Date.now() + 20_000;
      while (
        !stack.sim.requests({ provider: "gemini", schemaName: "frontend_plan" }).some((r) => r.status === 0)
      ) {
        if (Date.now() > deadline) throw new Error(`no gemini call in flight:\n${first.output()}`);
        await sleep(20);
      }
      expect(await first.stop()).toBe(0);

      // The call was aborted and handed back: pending again, and its job waiting with no attempt used.
      const call = await stack.db.prisma.modelCall.findUniqueOrThrow({ where: { idempotencyKey: key } });
      expect(call).toMatchObject({ status: "pending", attempts: 1 });
      const job = await stack.queues.provider("gemini").getJob(callJobId(id, 0, "planning", "frontend"));
      expect(await job?.getState()).toBe("waiting");
      expect(job?.attemptsMade).toBe(0);

      stack.sim.configure({ latencyMs: { gemini: null } });
      const second = startWorkerProcess(stack, ["--queues", "all"]);
      workers.push(second);
      const session = await stack.waitForSession(id, 60_000);
      expect(session.status).toBe("succeeded");
      const answered = await stack.db.prisma.modelCall.findUniqueOrThrow({ where: { idempotencyKey: key } });
      expect(answered).toMatchObject({ status: "succeeded", attempts: 2, workerPid: second.pid });
      await second.stop();
    } finally {
      stack.sim.configure({ latencyMs: { gemini: null } });
    }
  });

  it("refuses unknown queues with a usage message and exit code 1", async () => {
    const worker = startWorkerProcess(stack, ["--queues", "anthropic,cohere"]);
    workers.push(worker);
    expect(await worker.exited).toBe(1);
    expect(worker.output()).toContain("worker: --queues: unknown queue cohere");
    expect(worker.output()).toContain("usage: node apps/worker/src/main.ts");
  });
});
