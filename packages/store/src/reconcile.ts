import type { PrismaClient } from "@foundry/db";
import type { WorkflowDefinition } from "@foundry/workflow";
import { phaseStatusOf, sessionWorkflowOf } from "./columns.ts";
import { CALL_JOB_ID_FIELDS } from "./journal.ts";
import type { PhaseStatus } from "./status.ts";

// What the reconciler reads to compare PostgreSQL with the queue (see reconciler.ts).

/** An active session as the reconciler checks it. */
export interface ActiveSession {
  id: string;
  run: number;
  createdAt: Date;
  updatedAt: Date;
  progressAt: Date;
  /**
   * Its workflow, parsed when asked for: a session past its deadline is failed without it, so a
   * stored workflow that no longer parses cannot keep its session (and the pass) from ending.
   */
  workflow(): WorkflowDefinition;
}

/** Up to `batch` queued or running sessions, the least recently progressed first. */
export async function listActiveSessions(db: PrismaClient, batch: number): Promise<ActiveSession[]> {
  const rows = await db.session.findMany({
    where: { status: { in: ["queued", "running"] } },
    orderBy: { progressAt: "asc" },
    take: batch,
    select: { id: true, run: true, workflow: true, createdAt: true, updatedAt: true, progressAt: true },
  });
  return rows.map(({ workflow, ...row }) => ({
    ...row,
    workflow: () => sessionWorkflowOf({ id: row.id, workflow }),
  }));
}

/** Each phase of a session with its status, in workflow order. */
export async function listPhaseStatuses(
  db: PrismaClient,
  sessionId: string,
): Promise<Array<{ phase: string; status: PhaseStatus }>> {
  const rows = await db.phaseRun.findMany({
    where: { sessionId },
    orderBy: { position: "asc" },
    select: { phase: true, status: true },
  });
  return rows.map((row) => ({ phase: row.phase, status: phaseStatusOf({ sessionId, ...row }) }));
}

/**
 * A phase's calls without an answer (pending or running) journaled before `before`, as their job ids
 * need them (CALL_JOB_ID_FIELDS).
 */
export async function listUnansweredCalls(db: PrismaClient, sessionId: string, phase: string, before: Date) {
  return db.modelCall.findMany({
    where: { sessionId, phase, status: { in: ["pending", "running"] }, createdAt: { lt: before } },
    select: CALL_JOB_ID_FIELDS,
  });
}
