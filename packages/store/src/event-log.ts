import type { SessionEvent, SessionStatus } from "@foundry/contract";
import type { PrismaClient } from "@foundry/db";
import { sessionStatusOf } from "./columns.ts";
import { eventView } from "./views.ts";

// Reading the event log from a point, for live streams. One session's events commit in id order
// (recordEvents appends them under the session's row lock), so a session is followed by id alone.
// Across sessions they do not: session A may draw id 100, session B id 101, and B commit first. A
// reader that took 101 and moved its cursor past it would never see 100. EventHorizon says how far
// the all-sessions reader may go.

/**
 * A session's status and its events after `after` (at most `limit`, oldest first), read together in
 * one statement, so in one snapshot: when the status is final, every event committed with it is
 * among them (or beyond `limit`). Status null: the session does not exist.
 */
export async function readSessionEventsAndStatus(
  db: PrismaClient,
  sessionId: string,
  after: bigint,
  limit: number,
): Promise<{ status: SessionStatus | null; events: SessionEvent[] }> {
  const rows = await db.$queryRaw<
    Array<{
      status: string;
      id: bigint | null;
      type: string;
      phase: string | null;
      message: string;
      data: unknown;
      at: Date;
    }>
  >`
    SELECT s.status, e.id, e.type, e.phase, e.message, e.data, e.at
    FROM sessions AS s
    LEFT JOIN LATERAL (
      SELECT id, type, phase, message, data, at FROM session_events
      WHERE session_id = s.id AND id > ${after}
      ORDER BY id LIMIT ${limit}) AS e ON true
    WHERE s.id = ${sessionId}
    ORDER BY e.id`;
  const first = rows[0];
  if (!first) return { status: null, events: [] };
  const status = sessionStatusOf({ id: sessionId, status: first.status });
  const events = rows.flatMap((row) =>
    row.id === null ? [] : [eventView({ ...row, id: row.id, sessionId })],
  );
  return { status, events };
}

/** Every session's events with ids in (after, upTo], oldest first. */
export async function readEventsBetween(
  db: PrismaClient,
  after: bigint,
  upTo: bigint,
  limit: number,
): Promise<SessionEvent[]> {
  if (upTo <= after) return [];
  const rows = await db.sessionEvent.findMany({
    where: { id: { gt: after, lte: upTo } },
    orderBy: { id: "asc" },
    take: limit,
  });
  return rows.map(eventView);
}

/** The last event id drawn from the sequence (committed or not); 0 before the first. */
export async function lastDrawnEventId(db: PrismaClient): Promise<bigint> {
  const rows = await db.$queryRaw<Array<{ last: string | null }>>`
    SELECT pg_sequence_last_value(pg_get_serial_sequence('session_events', 'id')::regclass)::text AS last`;
  return BigInt(rows[0]?.last ?? "0");
}

/** Readings kept while they wait to settle. */
const MAX_CANDIDATES = 64;

/**
 * The highest event id H such that every event with an id up to H has committed or never will:
 * an all-sessions reader that goes up to H, and only then moves its cursor to H, misses nothing.
 *
 * How: read the last id drawn from the sequence, L; then take a transaction id of our own, X (in a
 * statement of its own, committed at once). Every writer of events has its transaction id before it
 * draws an event id (recordEvents locks the session's row first, which assigns one), and
 * transaction ids are handed out in order, so any transaction that holds an id up to L has a
 * transaction id below X. Once a later snapshot's `xmin` (the oldest transaction still running) is
 * past X, all of them have committed or rolled back: L is settled. (A snapshot's `xmax` would not do
 * as the bound: it is one past the latest *completed* transaction, and a running transaction's id
 * may be above it.) A reading that finds no new id costs no transaction id. Transactions of the whole
 * PostgreSQL cluster count, so one left open elsewhere delays the horizon (never the per-session
 * streams) until it ends.
 */
export class EventHorizon {
  readonly #db: PrismaClient;
  #settled = 0n;
  readonly #candidates: Array<{ last: bigint; xid: bigint }> = [];

  constructor(db: PrismaClient) {
    this.#db = db;
  }

  /** The horizon as of the last {@link advance}. */
  get settled(): bigint {
    return this.#settled;
  }

  /** Whether ids above the horizon were seen that wait for transactions to end. */
  get pending(): boolean {
    return this.#candidates.length > 0;
  }

  /** Takes a new reading (two or three short queries) and moves the horizon as far as it can. */
  async advance(): Promise<bigint> {
    // In this order: our transaction id must be drawn after the sequence was read, and the
    // snapshot taken after that transaction has ended.
    const last = await lastDrawnEventId(this.#db);
    if (last > (this.#candidates.at(-1)?.last ?? this.#settled)) {
      const [own] = await this.#db.$queryRaw<
        Array<{ xid: string }>
      >`SELECT pg_current_xact_id()::text AS xid`;
      // A long wait (a transaction left open) must not grow the list without bound: replacing the
      // newest reading with a later one only settles its ids later, never wrongly.
      if (this.#candidates.length >= MAX_CANDIDATES) this.#candidates.pop();
      this.#candidates.push({ last, xid: BigInt(own?.xid ?? "0") });
    }
    if (this.#candidates.length === 0) return this.#settled;
    const [row] = await this.#db.$queryRaw<Array<{ xmin: string }>>`
      SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS xmin`;
    const xmin = BigInt(row?.xmin ?? "0");
    while (this.#candidates[0] && this.#candidates[0].xid < xmin) {
      const settled = this.#candidates.shift();
      if (settled && settled.last > this.#settled) this.#settled = settled.last;
    }
    return this.#settled;
  }
}
