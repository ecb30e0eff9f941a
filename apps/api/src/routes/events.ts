import { eventId, routes, type SessionEvent, type StreamEnd } from "@foundry/contract";
import type { PrismaClient } from "@foundry/db";
import type { EventFeed } from "@foundry/engine";
import { getSessionSummary } from "@foundry/store";
import type { Context, Hono } from "hono";
import { type SSEStreamingApi, streamSSE } from "hono/streaming";
import { handle } from "../contract-route.ts";
import { ApiError, parseInput } from "../errors.ts";

// The live streams (Server-Sent Events). Each message is one event: `id:` is the event id and
// `data:` the event as JSON (the contract's SessionEvent), so a browser's EventSource, or any
// client, resumes with Last-Event-ID and gets what it missed, once.

export interface EventRoutesDeps {
  db: PrismaClient;
  feed: EventFeed;
  /** Comment lines that keep proxies from closing a quiet stream. @default 15000 */
  keepAliveMs?: number;
  logError: (error: Error) => void;
}

/** How long a browser waits before reconnecting after the connection drops. */
const RETRY_MS = 2_000;

/** The point to resume after: `Last-Event-ID` (header) or `?lastEventId=`; a bad one is a 400 naming it. */
function resumePoint(c: Context, fromQuery: string | undefined): bigint | undefined {
  const header = c.req.header("last-event-id");
  if (header !== undefined && header !== "") {
    return BigInt(parseInput(eventId, header.trim(), "Last-Event-ID header"));
  }
  return fromQuery === undefined ? undefined : BigInt(fromQuery);
}

/** `GET /api/sessions/{id}/events/stream` and `GET /api/events/stream`. */
export function eventRoutes(app: Hono, deps: EventRoutesDeps): void {
  handle(app, routes.streamSessionEvents, async (c, { params: { id }, query }) => {
    const after = resumePoint(c, query.lastEventId) ?? 0n;
    // 404 before the stream starts (an SSE client cannot read a status once it has started).
    if ((await getSessionSummary(deps.db, id)) === null) {
      throw new ApiError(404, "NOT_FOUND", `no session ${id}`);
    }
    return sse(c, deps, async (stream, signal) => {
      for await (const item of deps.feed.followSession(id, after, signal)) {
        if ("events" in item) await send(stream, item.events);
        else {
          const end: StreamEnd = { status: item.end };
          await stream.writeSSE({ event: "end", data: JSON.stringify(end) });
        }
      }
    });
  });

  handle(app, routes.streamAllEvents, async (c, { query }) => {
    const after = resumePoint(c, query.lastEventId) ?? null;
    return sse(c, deps, async (stream, signal) => {
      for await (const events of deps.feed.followAll(after, signal)) await send(stream, events);
    });
  });
}

async function send(stream: SSEStreamingApi, events: readonly SessionEvent[]): Promise<void> {
  for (const event of events) await stream.writeSSE({ id: event.id, data: JSON.stringify(event) });
}

/**
 * Runs `pump` as an SSE response with keep-alive comments, and stops it (through `signal`) when
 * the client goes away. A failure (the database went away) ends the stream; the client resumes.
 */
function sse(
  c: Context,
  deps: EventRoutesDeps,
  pump: (stream: SSEStreamingApi, signal: AbortSignal) => Promise<void>,
): Response {
  c.header("X-Accel-Buffering", "no"); // nginx: pass each message through at once
  return streamSSE(c, async (stream) => {
    const abort = new AbortController();
    stream.onAbort(() => abort.abort());
    c.req.raw.signal.addEventListener("abort", () => abort.abort(), { once: true });
    const keepAlive = setInterval(() => {
      void stream.write(": keep-alive\n\n");
    }, deps.keepAliveMs ?? 15_000);
    try {
      await stream.write(`retry: ${RETRY_MS}\n\n`);
      await pump(stream, abort.signal);
    } catch (error) {
      if (!abort.signal.aborted) deps.logError(error as Error);
    } finally {
      clearInterval(keepAlive);
      abort.abort();
    }
  });
}
