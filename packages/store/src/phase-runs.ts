import type { Prisma, PrismaClient } from "@foundry/db";
import { type PhaseOutput, phaseOutputOf } from "./columns.ts";
import { EVENTS_CHANNEL, type EventInput } from "./events.ts";

// A phase run's transitions: pending → running → (waiting ↔ running) → succeeded | skipped. Each is
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
 * Starts a phase: only from pending, and only while the session is active (then it runs this phase
 * and its start is recorded once). `ended`: the session is no longer active (nothing changed);
 * `started`: this call started it; `already`: it had started before (nothing changed).
 */
export async function markPhaseRunning(
  db: PrismaClient,
  sessionId: string,
  phase: { id: string; title: string },
): Promise<"started" | "already" | "ended"> {
  const started = eventRows(phase.id, [{ type: "phase.started", message: phase.title }]);
  const rows = await db.$queryRaw<Array<{ active: number; started: number }>>`
    WITH s AS (
      SELECT id, started_at FROM sessions WHERE id = ${sessionId} AND status IN ('queued', 'running') FOR UPDATE),
    run AS (
      UPDATE phase_runs AS r SET status = 'running', started_at = clock_timestamp(),
        attempts = r.attempts + 1, error = NULL
      FROM s WHERE r.session_id = s.id AND r.phase = ${phase.id} AND r.status = 'pending'
      RETURNING r.id),
    session AS (
      UPDATE sessions SET status = 'running', current_phase = ${phase.id},
        progress_at = clock_timestamp(), started_at = coalesce(sessions.started_at, clock_timestamp()),
        updated_at = clock_timestamp()
      FROM s WHERE sessions.id = s.id AND EXISTS (SELECT 1 FROM run)
      RETURNING s.started_at IS NULL AS first),
    appended AS (
      INSERT INTO session_events (session_id, type, phase, message, data, at)
      SELECT ${sessionId}, e.type, e.phase, e.message, e.data, clock_timestamp()
      FROM (
        SELECT 0 AS n, 'session.started' AS type, NULL AS phase, 'first phase started' AS message, NULL::jsonb AS data
        FROM session WHERE session.first
        UNION ALL
        SELECT x.n, x.value->>'type', x.value->>'phase', x.value->>'message', x.value->'data'
        FROM jsonb_array_elements(${started}::jsonb) WITH ORDINALITY AS x(value, n), run) AS e
      ORDER BY e.n)
    SELECT (SELECT count(*) FROM s)::int AS active, (SELECT count(*) FROM run)::int AS started,
      (SELECT count(*) FROM (SELECT pg_notify(${EVENTS_CHANNEL}, ${sessionId}) FROM run) AS announced)::int AS announced`;
  const row = rows[0];
  if (!row || row.active === 0) return "ended";
  return row.started > 0 ? "started" : "already";
}

/**
 * A phase waits for its calls: running (or already waiting) → waiting, with an event naming them.
 */
export async function markPhaseWaiting(
  db: PrismaClient,
  sessionId: string,
  phase: string,
  event: PhaseEvent,
): Promise<void> {
  await db.$executeRaw`
    WITH s AS (SELECT id FROM sessions WHERE id = ${sessionId} FOR UPDATE),
    waiting AS (
      UPDATE phase_runs AS r SET status = 'waiting'
      FROM s WHERE r.session_id = s.id AND r.phase = ${phase} AND r.status IN ('running', 'waiting')
      RETURNING r.id),
    appended AS (
      INSERT INTO session_events (session_id, type, phase, message, data, at)
      SELECT s.id, x.value->>'type', x.value->>'phase', x.value->>'message', x.value->'data', clock_timestamp()
      FROM s, jsonb_array_elements(${eventRows(phase, [event])}::jsonb) WITH ORDINALITY AS x(value, n)
      ORDER BY x.n)
    SELECT pg_notify(${EVENTS_CHANNEL}, ${sessionId}) FROM s`;
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
  const rows = await db.$queryRaw<Array<{ active: number; finished: number; output: unknown }>>`
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
      (SELECT count(*) FROM (SELECT pg_notify(${EVENTS_CHANNEL}, ${sessionId}) FROM finished) AS announced)::int AS announced`;
  const row = rows[0];
  if (!row || row.active === 0) return { state: "ended" };
  if (row.finished === 0) return { state: "already" };
  return { state: "finished", output: phaseOutputOf({ sessionId, phase: phase.id, output: row.output }) };
}
