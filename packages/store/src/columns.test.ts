import { type WorkflowDefinition, WorkflowError } from "@foundry/workflow";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../../test/support/db.ts";
import { insertTestSession, loadSeedWorkflow } from "../../../test/support/sessions.ts";
import { StoredRowError } from "./columns.ts";
import { ensureCalls, getCall } from "./journal.ts";
import { startPhaseRun } from "./phase-runs.ts";
import { readSessionRun } from "./session-deletion.ts";
import { getSessionView } from "./views.ts";

// Status and JSON columns are parsed when the store reads them: on real Postgres, rows the engine
// wrote come back typed, and rows it never writes fail naming the table, the column and the row.

let db: TestDatabase;
let workflow: WorkflowDefinition;

beforeAll(async () => {
  db = await createTestDatabase();
  workflow = await loadSeedWorkflow();
});
afterAll(() => db.drop());

function newSession(): Promise<string> {
  return insertTestSession(db.prisma, workflow);
}

async function newCall(sessionId: string): Promise<string> {
  await ensureCalls(db.prisma, sessionId, "requirements", [
    {
      callKey: "requirements",
      role: "manager",
      provider: "openai",
      model: "gpt-test",
      schemaName: "requirements",
      system: "be brief",
      prompt: "a todo app",
      route: [
        { provider: "openai", model: "gpt-test" },
        { provider: "anthropic", model: "claude-test" },
      ],
      meta: { task: "requirements" },
    },
  ]);
  return `${sessionId}.requirements.requirements`;
}

/** The session as a phase job reads it, starting nothing (no phase has this id). */
async function readForRun(sessionId: string) {
  return (await startPhaseRun(db.prisma, { sessionId, run: 0, phase: "(none)" })).session;
}

describe("columns read by the store", () => {
  it("come back parsed when the engine wrote them", async () => {
    const id = await newSession();
    const session = await readForRun(id);
    expect(session?.status).toBe("queued");
    expect(session?.workflow.phases.map((phase) => phase.id)).toEqual(
      workflow.phases.map((phase) => phase.id),
    );
    expect(session?.phases.every((phase) => phase.status === "pending" && phase.output === null)).toBe(true);

    const key = await newCall(id);
    const call = await getCall(db.prisma, key);
    expect(call?.status).toBe("pending");
    expect(call?.request.meta).toEqual({ task: "requirements" });
    expect(call?.request.route.map((entry) => entry.provider)).toEqual(["openai", "anthropic"]);
    expect(call?.repair).toBeNull();
  });

  it("reads a request journaled before routes existed as routed to its own provider only", async () => {
    const key = await newCall(await newSession());
    await db.prisma
      .$executeRaw`UPDATE model_calls SET request = request - 'route' WHERE idempotency_key = ${key}`;
    expect((await getCall(db.prisma, key))?.request.route).toEqual([]);
  });

  it("fail naming the table, column and row when a status is not one the engine writes", async () => {
    const id = await newSession();
    await db.prisma.$executeRaw`UPDATE sessions SET status = 'paused' WHERE id = ${id}`;
    const read = readSessionRun(db.prisma, id);
    await expect(read).rejects.toBeInstanceOf(StoredRowError);
    await expect(read).rejects.toThrow(`sessions.status of the row with id ${id} is "paused"`);
    await expect(getSessionView(db.prisma, id)).rejects.toThrow(`sessions.status of the row with id ${id}`);

    const other = await newSession();
    await db.prisma
      .$executeRaw`UPDATE phase_runs SET status = 'done' WHERE session_id = ${other} AND phase = 'requirements'`;
    await expect(readForRun(other)).rejects.toThrow(
      `phase_runs.status of the row with (session_id, phase) (${other}, requirements) is "done"`,
    );
  });

  it("fail naming the table, column and row when JSON is not what the engine writes", async () => {
    const id = await newSession();
    const key = await newCall(id);
    await db.prisma
      .$executeRaw`UPDATE model_calls SET request = request - 'prompt' WHERE idempotency_key = ${key}`;
    const read = getCall(db.prisma, key);
    await expect(read).rejects.toBeInstanceOf(StoredRowError);
    await expect(read).rejects.toThrow(`model_calls.request of the row with idempotency_key ${key}`);

    await db.prisma
      .$executeRaw`UPDATE phase_runs SET status = 'succeeded', output = '[1, 2]'::jsonb WHERE session_id = ${id} AND phase = 'requirements'`;
    await expect(readForRun(id)).rejects.toThrow(
      `phase_runs.output of the row with (session_id, phase) (${id}, requirements)`,
    );

    await db.prisma.$executeRaw`UPDATE sessions SET workflow = '{"name": "x"}'::jsonb WHERE id = ${id}`;
    await expect(readForRun(id)).rejects.toBeInstanceOf(WorkflowError);
    await expect(readForRun(id)).rejects.toThrow(`session ${id} (stored workflow)`);
  });
});
