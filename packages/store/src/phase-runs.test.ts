import { randomUUID } from "node:crypto";
import type { WorkflowDefinition } from "@foundry/workflow";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../../test/support/db.ts";
import { insertTestSession, loadSeedWorkflow } from "../../../test/support/sessions.ts";
import { finishPhaseRun, startPhaseRun } from "./phase-runs.ts";
import { markCancelled } from "./sessions.ts";

// A phase job starts its phase and reads its session in one statement, taking what the process
// already holds (the workflow snapshot and succeeded phases' outputs, which never change) as given.

let db: TestDatabase;
let workflow: WorkflowDefinition;

beforeAll(async () => {
  db = await createTestDatabase();
  workflow = await loadSeedWorkflow();
});
afterAll(() => db.drop());

const first = () => workflow.phases[0] as { id: string; title: string };
const second = () => workflow.phases[1] as { id: string; title: string };

function newSession(): Promise<string> {
  return insertTestSession(db.prisma, workflow);
}

async function events(sessionId: string) {
  return db.prisma.sessionEvent.findMany({
    where: { sessionId },
    orderBy: { id: "asc" },
    select: { type: true, phase: true, message: true },
  });
}

/** A session whose first phase succeeded with `output`; returns its id and the finish's result. */
async function sessionWithFirstPhaseDone(output: Record<string, unknown>) {
  const id = await newSession();
  const { start } = await startPhaseRun(db.prisma, { sessionId: id, run: 0, phase: first().id });
  expect(start).toBe("started");
  const finished = await finishPhaseRun(
    db.prisma,
    id,
    { ...first(), isLast: false },
    { status: "succeeded", output: output as never, skipReason: null },
  );
  return { id, finished };
}

describe("startPhaseRun", () => {
  it("starts a pending phase once, and reads the session as it was just before", async () => {
    const id = await newSession();
    const { start, session } = await startPhaseRun(db.prisma, { sessionId: id, run: 0, phase: first().id });
    expect(start).toBe("started");
    expect(session?.status).toBe("queued");
    expect(session?.phases[0]).toEqual({ phase: first().id, status: "pending", output: null });
    expect(session?.phases.map((phase) => phase.phase)).toEqual(workflow.phases.map((phase) => phase.id));
    expect(session?.workflow).toEqual(workflow);
    expect(session).toMatchObject({ id, request: "a todo app", run: 0, publish: false, repoName: null });

    const again = await startPhaseRun(db.prisma, { sessionId: id, run: 0, phase: first().id });
    expect(again.start).toBe("already");
    expect(again.session?.status).toBe("running");
    expect(again.session?.phases[0]?.status).toBe("running");
    // The session's first start and the phase's, with the phase's title from the stored workflow.
    expect(await events(id)).toEqual([
      expect.objectContaining({ type: "session.submitted" }),
      { type: "session.started", phase: null, message: "first phase started" },
      { type: "phase.started", phase: first().id, message: first().title },
    ]);
  });

  it("starts nothing on another run or once the session ended, and says so", async () => {
    const id = await newSession();
    const superseded = await startPhaseRun(db.prisma, { sessionId: id, run: 1, phase: first().id });
    expect(superseded.start).toBe("ended");
    expect(superseded.session?.run).toBe(0);

    await markCancelled(db.prisma, id, "test");
    const ended = await startPhaseRun(db.prisma, { sessionId: id, run: 0, phase: first().id });
    expect(ended.start).toBe("ended");
    expect(ended.session?.status).toBe("cancelled");
    expect(ended.session?.phases[0]?.status).toBe("pending");
    expect((await events(id)).map((event) => event.type)).not.toContain("phase.started");
  });

  it("returns no session for one that does not exist", async () => {
    expect(await startPhaseRun(db.prisma, { sessionId: randomUUID(), run: 0, phase: first().id })).toEqual({
      start: "ended",
      session: null,
      calls: null,
    });
  });

  it("takes the known workflow and outputs instead of reading them", async () => {
    const { id } = await sessionWithFirstPhaseDone({ stored: true });
    // Known values that differ from the stored ones show which were used.
    const knownWorkflow = { ...workflow, description: "held in memory" };
    const { session } = await startPhaseRun(
      db.prisma,
      { sessionId: id, run: 0, phase: second().id },
      { workflow: knownWorkflow, outputs: new Map([[first().id, { held: true }]]) },
    );
    expect(session?.workflow.description).toBe("held in memory");
    expect(session?.phases[0]).toEqual({ phase: first().id, status: "succeeded", output: { held: true } });
  });

  it("reads the workflow and the outputs it does not hold", async () => {
    const { id } = await sessionWithFirstPhaseDone({ stored: true });
    const { session } = await startPhaseRun(
      db.prisma,
      { sessionId: id, run: 0, phase: second().id },
      { outputs: new Map() },
    );
    expect(session?.workflow).toEqual(workflow);
    expect(session?.phases[0]?.output).toEqual({ stored: true });
    // Phases that did not succeed have no output.
    expect(session?.phases.slice(1).every((phase) => phase.output === null)).toBe(true);
  });
});

describe("finishPhaseRun", () => {
  it("returns the output as stored, in the order a later read gives it", async () => {
    // jsonb orders an object's keys (shorter first), so the stored output is not the object written.
    const { id, finished } = await sessionWithFirstPhaseDone({ zebra: 1, a: { long: 2, b: 3 } });
    expect(finished.state).toBe("finished");
    const stored = finished.state === "finished" ? finished.output : null;
    const { session } = await startPhaseRun(db.prisma, { sessionId: id, run: 0, phase: second().id });
    const output = session?.phases[0]?.output;
    expect(output).toEqual({ a: { b: 3, long: 2 }, zebra: 1 });
    expect(JSON.stringify(stored)).toBe(JSON.stringify(output));
  });

  it("says when the phase was not in progress, and changes nothing", async () => {
    const { id } = await sessionWithFirstPhaseDone({ done: true });
    const again = await finishPhaseRun(
      db.prisma,
      id,
      { ...first(), isLast: false },
      { status: "succeeded", output: { done: false }, skipReason: null },
    );
    expect(again).toEqual({ state: "already" });
    const { session } = await startPhaseRun(db.prisma, { sessionId: id, run: 0, phase: second().id });
    expect(session?.phases[0]?.output).toEqual({ done: true });
  });
});
