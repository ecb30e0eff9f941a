import { Prisma, type PrismaClient, queryRows } from "@foundry/db";
import type { WorkflowDefinition } from "@foundry/workflow";
import {
  type PhaseOutput,
  phaseOutputOf,
  phaseStatusOf,
  sessionStatusOf,
  sessionWorkflowOf,
} from "./columns.ts";
import { EVENTS_CHANNEL, type EventInput } from "./events.ts";
import { type PhaseCall, type PhaseCallRow, phaseCallOf } from "./journal.ts";
import type { PhaseStatus, SessionStatus } from "./status.ts";

// A phase run's transitions: pending → running → (waiting ↔ running) → succeeded | skipped; the
// start and the end are here, the waiting where the phase's calls are journaled (journal.ts). Each is
// one statement (one round trip): it locks the session's row first, as every writer of a session's
// rows does (so its events commit in id order and writers queue up instead of deadlocking), changes
// the rows, appends the events and announces them (NOTIFY, sent on commit).

type PhaseEvent = Omit<EventInput, "sessionId" | "phase">;

/** The events as one JSON parameter, in order, for `jsonb_array_elements ... WITH ORDINALITY`. */
function eventRows(phase: string, events: readonly (PhaseEvent & { phase?: string | null })[]): string {
  return JSON.stringify(
    events.map((event) => ({
      type: event.type,
      phase: event.phase === undefined ? phase : event.phase,
      message: event.message,
      ...(event.data !== undefined && { data: event.data }),
    })),
  );
}

/**
 * What a process already holds of a session, so that loading it again does not read and parse it
 * again: the workflow snapshot and the outputs of its succeeded phases. Both never change once
 * stored (a retry resets only the phases that did not finish), so they need no invalidation.
 */
export interface KnownSession {
  workflow?: WorkflowDefinition;
  /** Outputs of succeeded phases, by phase id. */
  outputs: ReadonlyMap<string, PhaseOutput>;
}

/** A phase job's view of its session: its small columns, the workflow and each phase's status and output. */
export interface SessionForRun {
  id: string;
  request: string;
  run: number;
  status: SessionStatus;
  publish: boolean;
  repoName: string | null;
  repoUrl: string | null;
  workflow: WorkflowDefinition;
  /** In workflow order; `output` only for succeeded phases. */
  phases: Array<{ phase: string; status: PhaseStatus; output: PhaseOutput }>;
}

/**
 * `started`: this call started the phase; `already`: it was not pending (running, waiting or done:
 * nothing changed); `ended`: the session is no longer active, or is on another run (nothing changed).
 */
export type PhaseStart = "started" | "already" | "ended";

/**
 * What a phase job does first, in one statement: start the phase (only from pending, and only while
 * the session is active and on run `run`: its start is then recorded once) and read the session as
 * the phase needs it. The session is read as it was just before the start (a phase this call started
 * reads as pending). What `known` holds (the workflow, succeeded phases' outputs) is taken from it
 * instead of being read and parsed again; a succeeded phase's output it does not hold costs one more
 * read. `session` is null when the session does not exist. `calls`: when the phase was waiting for
 * its calls, those calls as a phase reads them (phaseCalls), so a phase job coming back from waiting
 * reads them in the same statement; otherwise null.
 */
export async function startPhaseRun(
  db: PrismaClient,
  start: { sessionId: string; run: number; phase: string },
  known?: KnownSession,
): Promise<{ start: PhaseStart; session: SessionForRun | null; calls: PhaseCall[] | null }> {
  const { sessionId, run, phase } = start;
  const needWorkflow = known?.workflow === undefined;
  const rows = await queryRows<{
    active: number;
    started: number;
    id: string;
    request: string;
    run: number;
    status: string;
    publish: boolean;
    repo_name: string | null;
    repo_url: string | null;
    workflow: unknown;
    phases: Array<{ phase: string; status: string }> | null;
    calls: PhaseCallRow[] | null;
  }>(
    db,
    Prisma.sql`
    WITH s AS (
      -- The phase's title (its phase.started event's message) from the session's workflow snapshot.
      SELECT id, started_at,
        (SELECT p->>'title' FROM jsonb_array_elements(workflow->'phases') AS p WHERE p->>'id' = ${phase} LIMIT 1) AS title
      FROM sessions
      WHERE id = ${sessionId} AND status IN ('queued', 'running') AND run = ${run} FOR UPDATE),
    run AS (
      UPDATE phase_runs AS r SET status = 'running', started_at = clock_timestamp(),
        attempts = r.attempts + 1, error = NULL
      FROM s WHERE r.session_id = s.id AND r.phase = ${phase} AND r.status = 'pending'
      RETURNING r.id),
    session AS (
      UPDATE sessions SET status = 'running', current_phase = ${phase},
        progress_at = clock_timestamp(), started_at = coalesce(sessions.started_at, clock_timestamp()),
        updated_at = clock_timestamp()
      FROM s WHERE sessions.id = s.id AND EXISTS (SELECT 1 FROM run)
      RETURNING s.started_at IS NULL AS first),
    appended AS (
      INSERT INTO session_events (session_id, type, phase, message, at)
      SELECT ${sessionId}, e.type, e.phase, e.message, clock_timestamp()
      FROM (
        SELECT 0 AS n, 'session.started' AS type, NULL AS phase, 'first phase started' AS message
        FROM session WHERE session.first
        UNION ALL
        SELECT 1, 'phase.started', ${phase}, coalesce(s.title, ${phase}) FROM s, run) AS e
      ORDER BY e.n)
    SELECT (SELECT count(*) FROM s)::int AS active, (SELECT count(*) FROM run)::int AS started,
      (SELECT count(*) FROM (SELECT pg_notify(${EVENTS_CHANNEL}, ${sessionId}) FROM run) AS announced)::int AS announced,
      x.id, x.request, x.run, x.status, x.publish, x.repo_name, x.repo_url,
      CASE WHEN ${needWorkflow} THEN x.workflow END AS workflow,
      (SELECT jsonb_agg(jsonb_build_object('phase', p.phase, 'status', p.status) ORDER BY p.position)
        FROM phase_runs AS p WHERE p.session_id = x.id) AS phases,
      CASE WHEN EXISTS (SELECT 1 FROM phase_runs AS w WHERE w.session_id = x.id AND w.phase = ${phase} AND w.status = 'waiting')
        THEN coalesce((
          SELECT jsonb_agg(jsonb_build_object('idempotency_key', c.idempotency_key, 'call_key', c.call_key,
            'role', c.role, 'provider', c.provider, 'model', c.model, 'fallback_from', c.fallback_from,
            'status', c.status, 'response', c.response, 'meta', c.request->'meta') ORDER BY c.call_key)
          FROM model_calls AS c WHERE c.session_id = x.id AND c.phase = ${phase}), '[]'::jsonb)
      END AS calls
    FROM (SELECT 1) AS one LEFT JOIN sessions AS x ON x.id = ${sessionId}`,
  );
  const row = rows[0];
  const outcome: PhaseStart = !row || row.active === 0 ? "ended" : row.started > 0 ? "started" : "already";
  if (!row?.id) return { start: outcome, session: null, calls: null };
  const workflow = known?.workflow ?? sessionWorkflowOf({ id: sessionId, workflow: row.workflow });
  const phases = (row.phases ?? []).map((phaseRow) => ({
    phase: phaseRow.phase,
    status: phaseStatusOf({ sessionId, ...phaseRow }),
  }));
  const missing = phases
    .filter((phaseRow) => phaseRow.status === "succeeded" && !known?.outputs.has(phaseRow.phase))
    .map((phaseRow) => phaseRow.phase);
  const outputs = new Map(known?.outputs);
  if (missing.length > 0) {
    const read = await db.phaseRun.findMany({
      where: { sessionId, phase: { in: missing } },
      select: { sessionId: true, phase: true, output: true },
    });
    for (const phaseRow of read) outputs.set(phaseRow.phase, phaseOutputOf(phaseRow));
  }
  return {
    start: outcome,
    calls: row.calls?.map((call) => phaseCallOf(call, sessionId, phase)) ?? null,
    session: {
      id: row.id,
      request: row.request,
      run: row.run,
      status: sessionStatusOf({ id: sessionId, status: row.status }),
      publish: row.publish,
      repoName: row.repo_name,
      repoUrl: row.repo_url,
      workflow,
      phases: phases.map((phaseRow) => ({
        ...phaseRow,
        output: phaseRow.status === "succeeded" ? (outputs.get(phaseRow.phase) ?? null) : null,
      })),
    },
  };
}

/**
 * Ends a phase run in progress (running or waiting) as succeeded or skipped, only while the session
 * is active (a cancel or a failure recorded meanwhile is never overwritten); the last phase also ends
 * the session as succeeded. `ended`: the session is no longer active (nothing changed);
 * `finished`: this call finished it, and `output` is the output as stored (what a later read returns);
 * `already`: it was not in progress (only the session's progress time moved).
 */
export async function finishPhaseRun(
  db: PrismaClient,
  sessionId: string,
  phase: { id: string; title: string; isLast: boolean },
  result: {
    status: "succeeded" | "skipped";
    output: Prisma.InputJsonValue | null;
    skipReason: string | null;
  },
): Promise<{ state: "finished"; output: PhaseOutput } | { state: "already" } | { state: "ended" }> {
  const events = eventRows(phase.id, [
    {
      type: result.status === "skipped" ? "phase.skipped" : "phase.succeeded",
      message:
        result.status === "skipped" ? `${phase.title} skipped: ${result.skipReason}` : `${phase.title} done`,
    },
    ...(phase.isLast
      ? [{ type: "session.succeeded" as const, phase: null, message: "all phases done" }]
      : []),
  ]);
  const output = result.output === null ? null : JSON.stringify(result.output);
  const rows = await queryRows<{ active: number; finished: number; output: unknown }>(
    db,
    Prisma.sql`
    WITH s AS (
      SELECT id FROM sessions WHERE id = ${sessionId} AND status IN ('queued', 'running') FOR UPDATE),
    finished AS (
      UPDATE phase_runs AS r SET status = ${result.status}, output = coalesce(${output}::jsonb, r.output),
        skip_reason = ${result.skipReason}, finished_at = clock_timestamp()
      FROM s WHERE r.session_id = s.id AND r.phase = ${phase.id} AND r.status IN ('running', 'waiting')
      RETURNING r.id, r.output),
    session AS (
      UPDATE sessions SET progress_at = clock_timestamp(), updated_at = clock_timestamp(),
        status = CASE WHEN ${phase.isLast} AND EXISTS (SELECT 1 FROM finished) THEN 'succeeded' ELSE sessions.status END,
        finished_at = CASE WHEN ${phase.isLast} AND EXISTS (SELECT 1 FROM finished) THEN clock_timestamp() ELSE sessions.finished_at END,
        current_phase = CASE WHEN ${phase.isLast} AND EXISTS (SELECT 1 FROM finished) THEN NULL ELSE sessions.current_phase END
      FROM s WHERE sessions.id = s.id),
    appended AS (
      INSERT INTO session_events (session_id, type, phase, message, data, at)
      SELECT ${sessionId}, x.value->>'type', x.value->>'phase', x.value->>'message', x.value->'data', clock_timestamp()
      FROM finished, jsonb_array_elements(${events}::jsonb) WITH ORDINALITY AS x(value, n)
      ORDER BY x.n)
    SELECT (SELECT count(*) FROM s)::int AS active, (SELECT count(*) FROM finished)::int AS finished,
      (SELECT output FROM finished) AS output,
      (SELECT count(*) FROM (SELECT pg_notify(${EVENTS_CHANNEL}, ${sessionId}) FROM finished) AS announced)::int AS announced`,
  );
  const row = rows[0];
  if (!row || row.active === 0) return { state: "ended" };
  if (row.finished === 0) return { state: "already" };
  return { state: "finished", output: phaseOutputOf({ sessionId, phase: phase.id, output: row.output }) };
}
