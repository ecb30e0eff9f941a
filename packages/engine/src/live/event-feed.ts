import type { SessionEvent, SessionStatus } from "@foundry/contract";
import { listen, type NotificationListener, type PrismaClient } from "@foundry/db";
import {
  EVENTS_CHANNEL,
  EventHorizon,
  isTerminalSession,
  lastDrawnEventId,
  readEventsBetween,
  readSessionEventsAndStatus,
} from "@foundry/store";
import { Wakeup } from "./wakeup.ts";

// Live events for the API's streams. One LISTEN connection per process hears every commit that
// appended events (recordEvents NOTIFYs the session id); the feed wakes the streams that follow
// that session, and those that follow every session. Notifications are a fast path: a stream that
// hears nothing still reads again every `pollMs`, so a dropped listener delays, never loses.

export interface EventFeedOptions {
  db: PrismaClient;
  /** Safety-net poll while a stream hears nothing. @default 3000 */
  pollMs?: number;
  /** Events read at a time. @default 500 */
  batchSize?: number;
  /** Told about listener problems (it reconnects by itself). */
  onError?: (error: Error) => void;
}

/** What a session's stream yields: events, then (once the session has ended) its final status. */
export type SessionFeedItem = { events: SessionEvent[] } | { end: SessionStatus };

/** Backoff while the all-sessions horizon waits for transactions to end. */
const SETTLE_FIRST_MS = 25;
const SETTLE_MAX_MS = 1_000;

/**
 * Follows the event log for live streams.
 *
 * @example
 * const feed = await EventFeed.listen(databaseUrl, { db });
 * for await (const item of feed.followSession(id, 0n, signal)) …
 * await feed.close();
 */
export class EventFeed {
  readonly #db: PrismaClient;
  readonly #pollMs: number;
  readonly #batch: number;
  readonly #sessions = new Map<string, Set<Wakeup>>();
  readonly #all = new Set<Wakeup>();
  readonly #horizon: EventHorizon;
  #listener: NotificationListener | null = null;
  readonly #closed = new AbortController();
  #advancing: Promise<void> | null = null;
  #again = false;
  #settleTimer: NodeJS.Timeout | undefined;
  #settleDelay = SETTLE_FIRST_MS;

  /** A feed that only polls (every `pollMs`); {@link EventFeed.listen} adds the fast path. */
  constructor(options: EventFeedOptions) {
    this.#db = options.db;
    this.#pollMs = options.pollMs ?? 3_000;
    this.#batch = options.batchSize ?? 500;
    this.#horizon = new EventHorizon(options.db);
  }

  /** A feed that LISTENs on `databaseUrl` (one connection, reconnected by itself). */
  static async listen(databaseUrl: string, options: EventFeedOptions): Promise<EventFeed> {
    const feed = new EventFeed(options);
    feed.#listener = await listen(databaseUrl, {
      channels: [EVENTS_CHANNEL],
      onNotification: (_channel, sessionId) => feed.#notify(sessionId),
      onError: options.onError,
    });
    return feed;
  }

  /** How many follows are open (for metrics and tests: a stream whose client left is not). */
  get followers(): number {
    let count = this.#all.size;
    for (const set of this.#sessions.values()) count += set.size;
    return count;
  }

  /** Stops listening and ends every follow still open (a server shutting down). */
  async close(): Promise<void> {
    this.#closed.abort();
    clearTimeout(this.#settleTimer);
    await this.#listener?.close();
    this.#listener = null;
  }

  /**
   * A session's events after `after`, in id order, as they commit; once the session has ended and
   * every event is out, one `{ end: status }` and the end of the iteration. It also ends (without
   * `end`) when the session is deleted, when `until` aborts and when the feed is closed.
   */
  async *followSession(
    sessionId: string,
    after: bigint,
    until: AbortSignal,
  ): AsyncGenerator<SessionFeedItem> {
    const signal = AbortSignal.any([until, this.#closed.signal]);
    const wakeup = new Wakeup();
    const set = this.#sessions.get(sessionId) ?? new Set<Wakeup>();
    this.#sessions.set(sessionId, set);
    set.add(wakeup);
    try {
      let cursor = after;
      while (!signal.aborted) {
        wakeup.reset();
        // The events and the status in one snapshot: a final status comes with every event of its commit.
        const { status, events } = await readSessionEventsAndStatus(this.#db, sessionId, cursor, this.#batch);
        if (status === null) return;
        if (events.length > 0) {
          cursor = BigInt((events.at(-1) as SessionEvent).id);
          yield { events };
          if (events.length === this.#batch) continue;
        }
        if (isTerminalSession(status)) {
          yield { end: status };
          return;
        }
        await wakeup.wait(this.#pollMs, signal);
      }
    } finally {
      set.delete(wakeup);
      if (set.size === 0 && this.#sessions.get(sessionId) === set) this.#sessions.delete(sessionId);
    }
  }

  /**
   * Every session's events after `after` (or, when null, those drawn from now on), in id order, each
   * sent only once no transaction that could still add a smaller id is open (see EventHorizon):
   * resuming after the last id received skips nothing. Ends only when `until` aborts or the feed is
   * closed.
   */
  async *followAll(after: bigint | null, until: AbortSignal): AsyncGenerator<SessionEvent[]> {
    const signal = AbortSignal.any([until, this.#closed.signal]);
    const wakeup = new Wakeup();
    this.#all.add(wakeup);
    try {
      let cursor = after ?? (await lastDrawnEventId(this.#db));
      while (!signal.aborted) {
        wakeup.reset();
        await this.#advance();
        const horizon = this.#horizon.settled;
        if (horizon > cursor) {
          const events = await readEventsBetween(this.#db, cursor, horizon, this.#batch);
          const full = events.length === this.#batch;
          cursor = full ? BigInt((events.at(-1) as SessionEvent).id) : horizon;
          if (events.length > 0) yield events;
          if (full) continue;
        }
        await wakeup.wait(this.#pollMs, signal);
      }
    } finally {
      this.#all.delete(wakeup);
    }
  }

  /** A commit appended events of `sessionId`. */
  #notify(sessionId: string): void {
    for (const wakeup of this.#sessions.get(sessionId) ?? []) wakeup.notify();
    for (const wakeup of this.#all) wakeup.notify();
  }

  /** Moves the horizon; callers that arrive while a reading runs get one more after it. */
  #advance(): Promise<void> {
    if (this.#advancing) {
      this.#again = true;
      return this.#advancing;
    }
    const before = this.#horizon.settled;
    this.#advancing = (async () => {
      do {
        this.#again = false;
        await this.#horizon.advance();
      } while (this.#again);
    })().finally(() => {
      if (this.#horizon.settled > before) this.#settleDelay = SETTLE_FIRST_MS;
      this.#advancing = null;
      this.#scheduleSettle();
    });
    return this.#advancing;
  }

  /** While ids wait for transactions to end, look again soon (backing off), then wake the streams. */
  #scheduleSettle(): void {
    if (!this.#horizon.pending || this.#all.size === 0) {
      this.#settleDelay = SETTLE_FIRST_MS;
      return;
    }
    if (this.#settleTimer) return;
    this.#settleTimer = setTimeout(() => {
      this.#settleTimer = undefined;
      this.#settleDelay = Math.min(this.#settleDelay * 2, SETTLE_MAX_MS);
      for (const wakeup of this.#all) wakeup.notify();
    }, this.#settleDelay);
    this.#settleTimer.unref();
  }
}
