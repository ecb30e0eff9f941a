import type { Prisma, PrismaClient } from "@foundry/db";
import type { WorkflowDefinition } from "@foundry/workflow";
import { isTerminalSession } from "../status.ts";
import { type Db, recordEvent } from "./events.ts";

export interface NewSession {
  id: string;
  request: string;
  workflowName: string;
  workflow: WorkflowDefinition;
  publish: boolean;
  repoName: string | null;
}

/** Creates the session, its phase rows (all pending) and the first event, in one transaction. */
export async function insertSession(db: PrismaClient, session: NewSession): Promise<void> {
  await db.$transaction(async (tx) => {
    await tx.session.create({
      data: {
        id: session.id,
        request: session.request,
        workflowName: session.workflowName,
        workflow: session.workflow as unknown as Prisma.InputJsonValue,
        status: "queued",
        publish: session.publish,
        repoName: session.repoName,
      },
    });
    await tx.phaseRun.createMany({
      data: session.workflow.phases.map((phase, position) => ({
        sessionId: session.id,
        phase: phase.id,
        position,
        status: "pending",
      })),
    });
    await recordEvent(tx, {
      sessionId: session.id,
      type: "session.submitted",
      message: `submitted with workflow ${session.workflowName}`,
      data: { publish: session.publish },
    });
  });
}

/**
 * Marks a session failed unless it already ended. Returns false when it had already ended (a
 * second report of the same failure, e.g. from a parent job, changes nothing).
 */
export async function failSession(
  db: PrismaClient,
  sessionId: string,
  reason: string,
  phase: string | null,
): Promise<boolean> {
  return db.$transaction(async (tx) => {
    const updated = await tx.session.updateMany({
      where: { id: sessionId, status: { in: ["queued", "running"] } },
      data: { status: "failed", error: reason, finishedAt: new Date() },
    });
    if (updated.count === 0) return false;
    if (phase) {
      await tx.phaseRun.updateMany({
        where: { sessionId, phase, status: { notIn: ["succeeded", "skipped"] } },
        data: { status: "failed", error: reason, finishedAt: new Date() },
      });
    }
    await recordEvent(tx, { sessionId, type: "session.failed", message: reason, phase });
    return true;
  });
}

/** The session as a running phase needs it; null when it does not exist. */
export async function loadSessionForRun(db: Db, sessionId: string) {
  return db.session.findUnique({
    where: { id: sessionId },
    include: { phases: { orderBy: { position: "asc" } } },
  });
}

export type SessionForRun = NonNullable<Awaited<ReturnType<typeof loadSessionForRun>>>;

export function sessionHasEnded(session: { status: string }): boolean {
  return isTerminalSession(session.status);
}
