// The cluster-wide rate limit holds across separate worker processes: three OS processes consume the
// anthropic queue, the simulator enforces the same sliding-window limit the workers are configured
// with (answering 429 if the cluster ever exceeds it), and several sessions make the limit bind.
import { hostname } from "node:os";
import type { SessionView } from "@foundry/engine";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitForWorkers } from "./support/cluster.ts";
import { type Stack, startStack } from "./support/stack.ts";
import { startWorkerProcess, type WorkerProcess } from "./support/worker-process.ts";

/** What the simulator enforces on anthropic, and what the workers are told (`4/2s`). */
const LIMIT = { max: 4, windowMs: 2_000 };
const WORKER_LIMIT = `${LIMIT.max}/${LIMIT.windowMs / 1000}s`;
const ANTHROPIC_REPLICAS = 3;
/**
 * Calls that last longer than BullMQ's pacing interval (2 starts a second for 4/2s) with one call
 * per process at a time: while two replicas are busy, the next call must go to the third, so every
 * replica takes part even when one of them is slow to wake on a loaded machine.
 */
const ANTHROPIC_LATENCY = { min: 700, max: 1_000 };
/** Each makes 4 anthropic calls with the "conflicts" scenario: a plan, two votes, an implementation. */
const SESSIONS = 4;

/** The most timestamps inside any half-open window `[t, t + windowMs)`. */
function maxInAnyWindow(times: readonly number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  let end = 0;
  for (let start = 0; start < sorted.length; start++) {
    while (end < sorted.length && (sorted[end] as number) - (sorted[start] as number) < windowMs) end++;
    most = Math.max(most, end - start);
  }
  return most;
}

describe("worker replicas in separate processes", () => {
  let stack: Stack;
  const workers: WorkerProcess[] = [];

  beforeAll(async () => {
    stack = await startStack({
      workers: false,
      simulator: {
        latencyMs: { anthropic: ANTHROPIC_LATENCY, openai: 20, gemini: 20 },
        limits: { anthropic: LIMIT },
      },
    });
    const env: Record<string, string> = {
      LOG_LEVEL: "warn",
      ANTHROPIC_RATE_LIMIT: WORKER_LIMIT,
      OPENAI_RATE_LIMIT: "6000/60s",
      GEMINI_RATE_LIMIT: "6000/60s",
      SHUTDOWN_TIMEOUT_MS: "5000",
    };
    workers.push(startWorkerProcess(stack, ["--queues", "orchestrator,openai,gemini"], env, "orchestrator"));
    for (let index = 1; index <= ANTHROPIC_REPLICAS; index++) {
      workers.push(
        startWorkerProcess(stack, ["--queues", "anthropic", "--concurrency", "1"], env, `anthropic-${index}`),
      );
    }
    await waitForWorkers(stack.queues, workers, {
      orchestrator: 1,
      openai: 1,
      gemini: 1,
      anthropic: ANTHROPIC_REPLICAS,
    });
  });

  afterAll(async () => {
    await Promise.all(workers.map((worker) => worker.stop(8_000)));
    await stack?.close();
  });

  it("keeps every window under the provider's limit while all three replicas take calls", async () => {
    const ids = await Promise.all(
      Array.from({ length: SESSIONS }, (_, index) =>
        stack.submit(`Build a todo list app, variant ${index + 1}`),
      ),
    );
    const deadline = Date.now() + 75_000;
    const views: SessionView[] = [];
    for (const id of ids) {
      views.push(await stack.waitForSession(id, Math.max(1_000, deadline - Date.now())));
    }

    expect(views.map((view) => [view.id, view.status, view.error])).toEqual(
      ids.map((id) => [id, "succeeded", null]),
    );

    // Which process made each anthropic call (API view): every replica took part, and only they did.
    const replicaPids = workers
      .filter((worker) => worker.name.startsWith("anthropic-"))
      .map((worker) => worker.pid);
    const calls = views.flatMap((view) => view.calls.filter((call) => call.provider === "anthropic"));
    expect(calls.length).toBeGreaterThanOrEqual(SESSIONS * 4);
    expect(calls.filter((call) => !replicaPids.includes(call.worker?.pid as number))).toEqual([]);
    const perReplica = replicaPids.map((pid) => calls.filter((call) => call.worker?.pid === pid).length);
    expect(
      perReplica.every((count) => count > 0),
      `anthropic calls per replica: ${perReplica}`,
    ).toBe(true);
    // The journal agrees: the model_calls rows name the same processes, on this host.
    const rows = await stack.db.prisma.modelCall.findMany({
      where: { provider: "anthropic" },
      select: { workerPid: true, workerHost: true },
    });
    expect(new Set(rows.map((row) => row.workerPid))).toEqual(new Set(replicaPids));
    expect(new Set(rows.map((row) => row.workerHost))).toEqual(new Set([hostname()]));

    // What went over the wire: never a 429, and never more than `max` requests in any window.
    const requests = stack.sim.requests({ provider: "anthropic" });
    expect(requests.length).toBeGreaterThan(LIMIT.max);
    const statuses = requests.map((request) => request.status);
    expect(statuses.filter((status) => status !== 200)).toEqual([]);
    const busiest = maxInAnyWindow(
      requests.map((request) => request.receivedAt),
      LIMIT.windowMs,
    );
    expect(busiest, `most anthropic requests in any ${LIMIT.windowMs} ms`).toBeLessThanOrEqual(LIMIT.max);
  }, 90_000);
});
