import { executeSql, Prisma, type PrismaClient } from "@foundry/db";

/** A client or a transaction: store functions work inside or outside one. */
export type Db = PrismaClient | Prisma.TransactionClient;

/** Event types of the session log, in the order a session usually produces them. */
export type EventType =
  | "session.submitted"
  | "session.requeued"
  | "session.retried"
  | "session.started"
  | "phase.started"
  | "phase.waiting"
  | "phase.skipped"
  | "phase.succeeded"
  | "phase.failed"
  | "call.started"
  | "call.succeeded"
  | "call.reused"
  | "call.late_answer"
  | "call.retrying"
  | "call.failed"
  | "call.cancelled"
  | "provider.rate_limited"
  | "vote.recorded"
  | "decision.override"
  | "file.rejected"
  | "file.merged"
  | "files.written"
  | "git.committed"
  | "git.published"
  | "session.succeeded"
  | "session.failed"
  | "session.cancelled"
  | "session.budget_exceeded"
  | "call.fallback"
  | "call.cached"
  | "provider.breaker_opened"
  | "provider.breaker_closed"
  | "spend.guard";

/**
 * The channel on which each transaction that appends events announces it (PostgreSQL NOTIFY;
 * payload: the session id). PostgreSQL delivers it when the transaction commits, so a listener
 * that hears it can read the events at once. A fast path only: see EventFeed for the safety net.
 */
export const EVENTS_CHANNEL = "foundry_session_events";

export interface EventInput {
  sessionId: string;
  type: EventType;
  message: string;
  phase?: string | null;
  data?: Prisma.InputJsonValue;
}

/**
 * Appends to a session's event log (the execution log the API and the dashboard show).
 *
 * Event ids come from one sequence, and transactions commit in any order, so a reader that asks
 * for "ids after N" could miss an id allocated before N but committed after it. Appending under
 * the session's row lock makes each session's events commit in id order; readers can then follow
 * a session by id alone. Inside a transaction the lock is held until it commits. Taking the lock
 * also gives the transaction its id before an event id is drawn, which the all-sessions reader
 * relies on (see event-log.ts). Listeners of {@link EVENTS_CHANNEL} hear of it on commit.
 */
export async function recordEvent(db: Db, event: EventInput): Promise<void> {
  await recordEvents(db, event.sessionId, [event]);
}

/**
 * Runs `work` in a transaction that first locks the session's row. Every transaction that writes a
 * session's rows takes this lock first, so they queue up behind each other instead of deadlocking
 * (one locking a call and then the session while another locks the session and then the call).
 */
export async function inSession<T>(
  db: PrismaClient,
  sessionId: string,
  work: (tx: Prisma.TransactionClient) => Promise<T>,
): Promise<T> {
  return db.$transaction(async (tx) => {
    await tx.$executeRaw`SELECT 1 FROM sessions WHERE id = ${sessionId} FOR UPDATE`;
    return work(tx);
  });
}

/** Appends several events of one session, in order, under the session's row lock. */
export async function recordEvents(
  db: Db,
  sessionId: string,
  events: readonly Omit<EventInput, "sessionId">[],
): Promise<void> {
  if (events.length === 0) return;
  const rows = events.map((event) => ({
    type: event.type,
    phase: event.phase ?? null,
    message: event.message,
    ...(event.data !== undefined && { data: event.data }),
  }));
  // One statement, so one round trip outside a transaction as inside one: lock the session's row
  // (before the insert draws event ids, see recordEvent), append the events in order and announce
  // them (NOTIFY is sent on commit, once per transaction and session however many events it
  // appends). The session id comes through `s` so that the lock is taken first; for a session that
  // does not exist the insert still fails on its foreign key, as it should.
  await executeSql(
    db,
    Prisma.sql`
    WITH s AS (SELECT id FROM sessions WHERE id = ${sessionId} FOR UPDATE),
    appended AS (
      INSERT INTO session_events (session_id, type, phase, message, data, at)
      SELECT coalesce(s.id, ${sessionId}), e.value->>'type', e.value->>'phase', e.value->>'message', e.value->'data', clock_timestamp()
      FROM jsonb_array_elements(${JSON.stringify(rows)}::jsonb) WITH ORDINALITY AS e(value, n) LEFT JOIN s ON true
      ORDER BY e.n
      RETURNING 1)
    SELECT pg_notify(${EVENTS_CHANNEL}, ${sessionId})`,
  );
}
