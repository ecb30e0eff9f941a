import { executeSql, Prisma, type PrismaClient } from "@foundry/db";
import type { WorkflowDefinition } from "@foundry/workflow";
import { sessionStatusOf, sessionWorkflowOf } from "./columns.ts";
import { type Db, EVENTS_CHANNEL, recordEvent } from "./events.ts";
import { type FailureCode, isTerminalSession, type SessionStatus } from "./status.ts";

/** The channel on which a cancel is announced to every worker (PostgreSQL NOTIFY; payload: session id). */
export const CANCEL_CHANNEL = "foundry_session_cancelled";

export interface NewSession {
  id: string;
  request: string;
  workflowName: string;
  workflow: WorkflowDefinition;
  publish: boolean;
  repoName: string | null;
  budgetUsd?: number | null;
  cache?: boolean;
}

/**
 * Creates the session, its phase rows (all pending) and its first event in one statement: one round
 * trip instead of an interactive transaction's five (BEGIN, three statements, COMMIT). Nobody else can
 * see the new row before the statement commits, so its first event needs no row lock.
 */
export async function insertSession(db: PrismaClient, session: NewSession): Promise<void> {
  const budgetUsd = session.budgetUsd ?? null;
  const cache = session.cache ?? false;
  const phases = JSON.stringify(session.workflow.phases.map((phase) => phase.id));
  const message = `submitted with workflow ${session.workflowName}${session.budgetUsd ? `, budget $${session.budgetUsd}` : ""}${cache ? ", response cache on" : ""}`;
  const data = JSON.stringify({ publish: session.publish, budgetUsd, cache });
  await executeSql(
    db,
    Prisma.sql`
    WITH s AS (
      INSERT INTO sessions (id, request, workflow_name, workflow, status, publish, repo_name, budget_usd, cache, updated_at)
      VALUES (${session.id}, ${session.request}, ${session.workflowName}, ${JSON.stringify(session.workflow)}::jsonb,
        'queued', ${session.publish}, ${session.repoName}, ${budgetUsd === null ? null : String(budgetUsd)}::numeric,
        ${cache}, clock_timestamp())
      RETURNING id),
    runs AS (
      INSERT INTO phase_runs (id, session_id, phase, position, status)
      SELECT gen_random_uuid(), s.id, x.phase, x.n - 1, 'pending'
      FROM s, jsonb_array_elements_text(${phases}::jsonb) WITH ORDINALITY AS x(phase, n)),
    appended AS (
      INSERT INTO session_events (session_id, type, phase, message, data, at)
      SELECT s.id, 'session.submitted', NULL, ${message}, ${data}::jsonb, clock_timestamp() FROM s)
    SELECT pg_notify(${EVENTS_CHANNEL}, s.id) FROM s`,
  );
}

/**
 * Marks a session failed unless it already ended (or, given `run`, has moved on to another run), and
 * brings its rows in line: the phase that failed
 * (or, without one, any phase in progress) becomes failed, and calls still pending or in flight become
 * failed with the session's reason. Returns false when the session had already ended (a second report
 * of the same failure changes nothing).
 */
export async function failSession(
  db: PrismaClient,
  sessionId: string,
  failure: {
    reason: string;
    code: FailureCode;
    phase?: string | null;
    run?: number;
    /** @default "failed"; a session stopped by its budget ends `budget_exceeded`. */
    status?: "failed" | "budget_exceeded";
  },
): Promise<boolean> {
  return db.$transaction(async (tx) => {
    const status = failure.status ?? "failed";
    const updated = await tx.session.updateMany({
      // A job of an earlier run (before a retry) reports nothing about the run in progress.
      where: {
        id: sessionId,
        status: { in: ["queued", "running"] },
        ...(failure.run !== undefined && { run: failure.run }),
      },
      data: { status, error: failure.reason, errorCode: failure.code, finishedAt: new Date() },
    });
    if (updated.count === 0) return false;
    await tx.phaseRun.updateMany({
      where: failure.phase
        ? { sessionId, phase: failure.phase, status: { notIn: ["succeeded", "skipped"] } }
        : { sessionId, status: { in: ["running", "waiting"] } },
      data: { status: "failed", error: failure.reason, finishedAt: new Date() },
    });
    await endUnansweredCalls(tx, sessionId, {
      status: status === "failed" ? "failed" : "cancelled",
      error: `not answered: the session ${status === "failed" ? "failed" : "reached its budget"} (${failure.reason})`,
      errorCode: "session_failed",
    });
    await recordEvent(tx, {
      sessionId,
      type: status === "failed" ? "session.failed" : "session.budget_exceeded",
      message: failure.reason,
      phase: failure.phase ?? null,
      data: { code: failure.code },
    });
    return true;
  });
}

/**
 * Ends the session's calls still pending or in flight, with `end`: no worker may claim them any more,
 * a lease holder loses its lease, and what they held against the budget is released.
 */
async function endUnansweredCalls(
  tx: Db,
  sessionId: string,
  end: { status: "failed" | "cancelled"; error: string; errorCode: string },
): Promise<void> {
  await tx.modelCall.updateMany({
    where: { sessionId, status: { in: ["pending", "running"] } },
    data: { ...end, finishedAt: new Date(), leaseOwner: null, leaseExpiresAt: null, reservedUsd: 0 },
  });
}

export type SessionChange = { ok: true; run: number } | { ok: false; status: SessionStatus | null };

/**
 * Cancels a queued or running session at once: its phases in progress and its calls without an
 * answer become cancelled (so no worker may claim them, and lease holders lose their lease), and every
 * worker is told through NOTIFY so that requests in flight are aborted now rather than at the next
 * lease renewal.
 */
export async function markCancelled(db: PrismaClient, sessionId: string, by: string): Promise<SessionChange> {
  return db.$transaction(async (tx) => {
    const rows = await tx.$queryRaw<Array<{ run: number }>>`
      UPDATE sessions SET status = 'cancelled', error = ${`cancelled by ${by}`}, error_code = 'cancelled',
        finished_at = now(), updated_at = now()
      WHERE id = ${sessionId} AND status IN ('queued', 'running')
      RETURNING run`;
    const row = rows[0];
    if (!row) return { ok: false, status: await statusOf(tx, sessionId) };
    await tx.phaseRun.updateMany({
      where: { sessionId, status: { in: ["running", "waiting"] } },
      data: { status: "cancelled", error: `cancelled by ${by}`, finishedAt: new Date() },
    });
    await endUnansweredCalls(tx, sessionId, {
      status: "cancelled",
      error: `cancelled by ${by}`,
      errorCode: "cancelled",
    });
    await recordEvent(tx, {
      sessionId,
      type: "session.cancelled",
      message: `cancelled by ${by}`,
      data: { by },
    });
    await tx.$executeRaw`SELECT pg_notify(${CANCEL_CHANNEL}, ${sessionId})`;
    return { ok: true, run: row.run };
  });
}

/**
 * Makes a failed or cancelled session queued again under a new run number: the phases that did not
 * finish go back to pending and so do the calls without an answer (with a fresh 429 budget); finished
 * phases and answered calls stay, so nothing answered is asked again.
 */
export async function markRetried(
  db: PrismaClient,
  sessionId: string,
  options: { budgetUsd?: number } = {},
): Promise<SessionChange> {
  return db.$transaction(async (tx) => {
    const rows = await tx.$queryRaw<Array<{ run: number; retries: number }>>`
      UPDATE sessions SET status = 'queued', error = NULL, error_code = NULL, finished_at = NULL,
        run = run + 1, retries = retries + 1, progress_at = now(), updated_at = now(),
        budget_usd = coalesce(${options.budgetUsd ?? null}::numeric, budget_usd)
      WHERE id = ${sessionId} AND status IN ('failed', 'cancelled', 'budget_exceeded')
      RETURNING run, retries`;
    const row = rows[0];
    if (!row) return { ok: false, status: await statusOf(tx, sessionId) };
    const resumed = await tx.phaseRun.findFirst({
      where: { sessionId, status: { notIn: ["succeeded", "skipped"] } },
      orderBy: { position: "asc" },
      select: { phase: true },
    });
    await tx.phaseRun.updateMany({
      where: { sessionId, status: { notIn: ["succeeded", "skipped"] } },
      data: { status: "pending", error: null, finishedAt: null },
    });
    const calls = await tx.modelCall.updateMany({
      where: { sessionId, status: { in: ["failed", "cancelled", "pending"] } },
      data: {
        status: "pending",
        finishedAt: null,
        leaseOwner: null,
        leaseExpiresAt: null,
        rateLimitHits: 0,
        reservedUsd: 0,
      },
    });
    await recordEvent(tx, {
      sessionId,
      type: "session.retried",
      message: `retry ${row.retries}: resuming from ${resumed?.phase ?? "the end"}; ${calls.count} unanswered call(s) will be asked again, answered ones are reused`,
      data: { run: row.run, retries: row.retries, fromPhase: resumed?.phase ?? null },
    });
    return { ok: true, run: row.run };
  });
}

/**
 * Starts a new run of an active session whose jobs were lost from the queue (or never added),
 * when its run is still `expectedRun` (so two reconcilers cannot both do it).
 */
export async function markRequeued(
  db: PrismaClient,
  sessionId: string,
  expectedRun: number,
  why: string,
): Promise<SessionChange> {
  return db.$transaction(async (tx) => {
    const rows = await tx.$queryRaw<Array<{ run: number }>>`
      UPDATE sessions SET run = run + 1, updated_at = now()
      WHERE id = ${sessionId} AND run = ${expectedRun} AND status IN ('queued', 'running')
      RETURNING run`;
    const row = rows[0];
    if (!row) return { ok: false, status: await statusOf(tx, sessionId) };
    await recordEvent(tx, {
      sessionId,
      type: "session.requeued",
      message: `re-queued (run ${row.run}): ${why}; finished phases and answered calls are reused`,
      data: { run: row.run, why },
    });
    return { ok: true, run: row.run };
  });
}

async function statusOf(db: Db, sessionId: string): Promise<SessionStatus | null> {
  const row = await db.session.findUnique({ where: { id: sessionId }, select: { status: true } });
  return row ? sessionStatusOf({ id: sessionId, status: row.status }) : null;
}

export function sessionHasEnded(session: { status: string }): boolean {
  return isTerminalSession(session.status);
}

/** The workflow a session was submitted with; null when the session does not exist. */
export async function getSessionWorkflow(db: Db, sessionId: string): Promise<WorkflowDefinition | null> {
  const row = await db.session.findUnique({ where: { id: sessionId }, select: { workflow: true } });
  return row ? sessionWorkflowOf({ id: sessionId, workflow: row.workflow }) : null;
}

/** Records the GitHub repository a session's project is published to (before the push, so a retry finds it). */
export async function setSessionRepository(
  db: Db,
  sessionId: string,
  repository: { url: string; name: string },
): Promise<void> {
  await db.session.update({
    where: { id: sessionId },
    data: { repoUrl: repository.url, repoName: repository.name },
  });
}
