import { randomUUID } from "node:crypto";
import type { WorkflowDefinition } from "@foundry/workflow";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../../test/support/db.ts";
import { loadSeedWorkflow } from "../../../test/support/sessions.ts";
import { EVENTS_CHANNEL } from "./events.ts";
import { insertSession } from "./sessions.ts";

// A submission writes its session, the session's phase rows and its first event in one statement.

let db: TestDatabase;
let workflow: WorkflowDefinition;

beforeAll(async () => {
  db = await createTestDatabase();
  workflow = await loadSeedWorkflow();
});
afterAll(() => db.drop());

describe("insertSession", () => {
  it("stores the session queued, its phases pending in order and its submitted event, and announces it", async () => {
    const listener = new pg.Client({ connectionString: db.url });
    await listener.connect();
    const heard: string[] = [];
    listener.on("notification", (message) => heard.push(message.payload ?? ""));
    await listener.query(`LISTEN ${EVENTS_CHANNEL}`);
    try {
      const id = randomUUID();
      await insertSession(db.prisma, {
        id,
        request: "a todo app",
        workflowName: "software-project",
        workflow,
        publish: true,
        repoName: "todo",
        budgetUsd: 0.25,
        cache: true,
      });

      const session = await db.prisma.session.findUniqueOrThrow({ where: { id } });
      expect(session).toMatchObject({
        request: "a todo app",
        workflowName: "software-project",
        status: "queued",
        publish: true,
        repoName: "todo",
        cache: true,
        run: 0,
        retries: 0,
        startedAt: null,
        finishedAt: null,
      });
      expect(session.budgetUsd?.toString()).toBe("0.25");
      expect(session.workflow).toEqual(JSON.parse(JSON.stringify(workflow)));
      expect(session.updatedAt.getTime()).toBeGreaterThanOrEqual(session.createdAt.getTime());

      const phases = await db.prisma.phaseRun.findMany({
        where: { sessionId: id },
        orderBy: { position: "asc" },
      });
      expect(phases.map((phase) => [phase.phase, phase.position, phase.status])).toEqual(
        workflow.phases.map((phase, index) => [phase.id, index, "pending"]),
      );

      const events = await db.prisma.sessionEvent.findMany({ where: { sessionId: id } });
      expect(events).toEqual([
        expect.objectContaining({
          type: "session.submitted",
          phase: null,
          message: "submitted with workflow software-project, budget $0.25, response cache on",
          data: { publish: true, budgetUsd: 0.25, cache: true },
        }),
      ]);
      await expect.poll(() => heard).toContain(id);
    } finally {
      await listener.end();
    }
  });

  it("stores no budget and no cache when the submission names none", async () => {
    const id = randomUUID();
    await insertSession(db.prisma, {
      id,
      request: "a todo app",
      workflowName: "software-project",
      workflow,
      publish: false,
      repoName: null,
    });
    const session = await db.prisma.session.findUniqueOrThrow({ where: { id } });
    expect(session).toMatchObject({ budgetUsd: null, cache: false, publish: false, repoName: null });
    const event = await db.prisma.sessionEvent.findFirstOrThrow({ where: { sessionId: id } });
    expect(event.message).toBe("submitted with workflow software-project");
    expect(event.data).toEqual({ publish: false, budgetUsd: null, cache: false });
  });

  it("refuses an id that is taken and leaves the stored session as it was", async () => {
    const id = randomUUID();
    const session = {
      id,
      request: "first",
      workflowName: "software-project",
      workflow,
      publish: false,
      repoName: null,
    };
    await insertSession(db.prisma, session);
    await expect(insertSession(db.prisma, { ...session, request: "second" })).rejects.toThrow(
      /sessions_pkey|Unique/i,
    );
    expect((await db.prisma.session.findUniqueOrThrow({ where: { id } })).request).toBe("first");
    expect(await db.prisma.phaseRun.count({ where: { sessionId: id } })).toBe(workflow.phases.length);
    expect(await db.prisma.sessionEvent.count({ where: { sessionId: id } })).toBe(1);
  });
});
