import { Prisma, type PrismaClient, queryRows } from "@foundry/db";
import type { CallJobIdColumns } from "@foundry/queue";
import type { WorkflowDefinition } from "@foundry/workflow";
import { phaseStatusOf, sessionWorkflowOf } from "./columns.ts";
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
  const rows = await queryRows<{
    id: string;
    run: number;
    workflow: unknown;
    createdAt: Date;
    updatedAt: Date;
    progressAt: Date;
  }>(
    db,
    Prisma.sql`
    SELECT id, run, workflow, created_at AS "createdAt", updated_at AS "updatedAt", progress_at AS "progressAt"
    FROM sessions WHERE status IN ('queued', 'running') ORDER BY progress_at LIMIT ${batch}`,
  );
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
  const rows = await queryRows<{ phase: string; status: string }>(
    db,
    Prisma.sql`SELECT phase, status FROM phase_runs WHERE session_id = ${sessionId} ORDER BY position`,
  );
  return rows.map((row) => ({ phase: row.phase, status: phaseStatusOf({ sessionId, ...row }) }));
}

/**
 * A phase's calls without an answer (pending or running) journaled before `before`, as their job ids
 * need them (CallJobIdColumns).
 */
export async function listUnansweredCalls(
  db: PrismaClient,
  sessionId: string,
  phase: string,
  before: Date,
): Promise<CallJobIdColumns[]> {
  return queryRows<CallJobIdColumns>(
    db,
    Prisma.sql`
    SELECT session_id AS "sessionId", phase, call_key AS "callKey", provider, model, fallback_from AS "fallbackFrom"
    FROM model_calls
    WHERE session_id = ${sessionId} AND phase = ${phase} AND status IN ('pending', 'running') AND created_at < ${before}`,
  );
}
