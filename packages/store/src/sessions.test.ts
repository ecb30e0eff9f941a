import { randomUUID } from "node:crypto";
import { loadWorkflowFile, type WorkflowDefinition } from "@foundry/workflow";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../../test/support/db.ts";
import { finishPhaseRun, markPhaseRunning } from "./phase-runs.ts";
import { insertSession, loadSessionForRun } from "./sessions.ts";

// A running phase loads its session with what the process already holds (the workflow snapshot and
// succeeded phases' outputs, which never change): those are taken as given, the rest is read.

let db: TestDatabase;
let workflow: WorkflowDefinition;

beforeAll(async () => {
  db = await createTestDatabase();
  workflow = await loadWorkflowFile(
    new URL("../../../workflows/software-project.yaml", import.meta.url).pathname,
  );
});
afterAll(() => db.drop());

/** A session whose first phase succeeded with `output`; returns its id and the output as stored. */
async function sessionWithFirstPhaseDone(output: Record<string, unknown>) {
  const id = randomUUID();
  await insertSession(db.prisma, {
    id,
    request: "a todo app",
    workflowName: workflow.name,
    workflow,
    publish: false,
    repoName: null,
  });
  const first = workflow.phases[0] as { id: string; title: string };
  expect(await markPhaseRunning(db.prisma, id, first)).toBe("started");
  const finished = await finishPhaseRun(
    db.prisma,
    id,
    { ...first, isLast: false },
    { status: "succeeded", output: output as never, skipReason: null },
  );
  return { id, first: first.id, finished };
}

describe("finishPhaseRun", () => {
  it("returns the output as stored, in the order a later read gives it", async () => {
    // jsonb orders an object's keys (shorter first), so the stored output is not the object written.
    const { id, first, finished } = await sessionWithFirstPhaseDone({ zebra: 1, a: { long: 2, b: 3 } });
    expect(finished.state).toBe("finished");
    const stored = finished.state === "finished" ? finished.output : null;
    const read = await loadSessionForRun(db.prisma, id);
    const output = read?.phases.find((phase) => phase.phase === first)?.output;
    expect(output).toEqual({ a: { b: 3, long: 2 }, zebra: 1 });
    expect(JSON.stringify(stored)).toBe(JSON.stringify(output));
  });

  it("says when the phase was not in progress, and changes nothing", async () => {
    const { id, first } = await sessionWithFirstPhaseDone({ done: true });
    const again = await finishPhaseRun(
      db.prisma,
      id,
      { id: first, title: "again", isLast: false },
      { status: "succeeded", output: { done: false }, skipReason: null },
    );
    expect(again).toEqual({ state: "already" });
    const read = await loadSessionForRun(db.prisma, id);
    expect(read?.phases.find((phase) => phase.phase === first)?.output).toEqual({ done: true });
  });
});

describe("loadSessionForRun with what the process knows", () => {
  it("takes the known workflow and outputs instead of reading them", async () => {
    const { id, first } = await sessionWithFirstPhaseDone({ stored: true });
    // Known values that differ from the stored ones show which were used.
    const knownWorkflow = { ...workflow, description: "held in memory" };
    const session = await loadSessionForRun(db.prisma, id, {
      workflow: knownWorkflow,
      outputs: new Map([[first, { held: true }]]),
    });
    expect(session?.workflow.description).toBe("held in memory");
    expect(session?.phases.find((phase) => phase.phase === first)?.output).toEqual({ held: true });
    expect(session?.status).toBe("running");
    expect(session?.request).toBe("a todo app");
  });

  it("reads the workflow and the outputs it does not hold", async () => {
    const { id, first } = await sessionWithFirstPhaseDone({ stored: true });
    const session = await loadSessionForRun(db.prisma, id, { outputs: new Map() });
    expect(session?.workflow).toEqual(workflow);
    expect(session?.phases.find((phase) => phase.phase === first)?.output).toEqual({ stored: true });
    // Phases that did not succeed have no output, known or not.
    expect(
      session?.phases.filter((phase) => phase.phase !== first).every((phase) => phase.output === null),
    ).toBe(true);
  });

  it("returns null for a session that does not exist", async () => {
    expect(await loadSessionForRun(db.prisma, randomUUID(), { workflow, outputs: new Map() })).toBeNull();
  });
});
