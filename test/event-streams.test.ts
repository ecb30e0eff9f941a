// The live streams (Server-Sent Events) end to end: a listening API, real fetches reading the
// stream, real workers running sessions against the provider simulator. A stream opened mid-run
// gets everything so far and then the rest; a reconnect with Last-Event-ID loses nothing and repeats
// nothing; the all-sessions stream never skips an event that commits out of id order.
import { setTimeout as sleep } from "node:timers/promises";
import { readEventStream, type SseMessage } from "@foundry/client";
import type { SessionEvent } from "@foundry/contract";
import { recordEvent } from "@foundry/engine";
import { serve } from "@hono/node-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { API_TOKEN, type Stack, startStack } from "./support/stack.ts";
import { until } from "./support/wait.ts";

interface OpenStream {
  response: Response;
  /** The next message, or null when the stream ended; throws after `timeoutMs`. */
  next(timeoutMs?: number): Promise<SseMessage | null>;
  /** Events until `stop` says so (inclusive), or until the stream ends. */
  events(
    stop: (event: SessionEvent, all: SessionEvent[]) => boolean,
    timeoutMs?: number,
  ): Promise<SessionEvent[]>;
  /** Whether a message arrives within `ms` (false when none does). */
  quietFor(ms: number): Promise<boolean>;
  close(): void;
}

async function listen(stack: Stack): Promise<{ url: string; close(): Promise<void> }> {
  return new Promise((resolve) => {
    const server = serve({ fetch: stack.app.fetch, port: 0, hostname: "127.0.0.1" }, (info) =>
      resolve({
        url: `http://127.0.0.1:${info.port}`,
        close: () => new Promise<void>((done) => server.close(() => done())),
      }),
    );
  });
}

async function openStream(url: string, headers: Record<string, string> = {}): Promise<OpenStream> {
  const abort = new AbortController();
  const response = await fetch(url, {
    headers: { authorization: `Bearer ${API_TOKEN}`, accept: "text/event-stream", ...headers },
    signal: abort.signal,
  });
  const messages = response.body ? readEventStream(response.body) : null;
  let pending: Promise<IteratorResult<SseMessage>> | null = null;
  const next = async (timeoutMs = 30_000) => {
    if (!messages) return null;
    pending ??= messages.next();
    const timer = sleep(timeoutMs, "timeout" as const);
    const result = await Promise.race([pending, timer]);
    if (result === "timeout") throw new Error(`no message within ${timeoutMs} ms`);
    pending = null;
    return result.done ? null : result.value;
  };
  return {
    response,
    next,
    async events(stop, timeoutMs = 30_000) {
      const out: SessionEvent[] = [];
      for (;;) {
        const message = await next(timeoutMs);
        if (message === null) return out;
        if (message.event !== "message") continue;
        const event = JSON.parse(message.data) as SessionEvent;
        expect(message.id).toBe(event.id);
        out.push(event);
        if (stop(event, out)) return out;
      }
    },
    async quietFor(ms) {
      try {
        await next(ms);
        return false;
      } catch {
        return true;
      }
    },
    close: () => abort.abort(),
  };
}

async function eventIds(stack: Stack, sessionId?: string): Promise<string[]> {
  const rows = await stack.db.prisma.sessionEvent.findMany({
    where: sessionId ? { sessionId } : {},
    orderBy: { id: "asc" },
    select: { id: true },
  });
  return rows.map((row) => row.id.toString());
}

describe("a session's event stream, against a listening server", () => {
  let stack: Stack;
  let api: { url: string; close(): Promise<void> };
  beforeAll(async () => {
    stack = await startStack({
      // Slow enough that a session is still running while a test disconnects and reconnects.
      simulator: { latencyMs: { openai: 60, anthropic: 60, gemini: 60 } },
      sseKeepAliveMs: 150,
    });
    api = await listen(stack);
  });
  afterAll(async () => {
    await api?.close();
    await stack?.close();
  });

  it("sends everything so far to a page opened mid-run, then the rest live; a resume loses nothing", async () => {
    const id = await stack.submit("Build a todo list app");
    const streamUrl = `${api.url}/api/sessions/${id}/events/stream`;

    const first = await openStream(streamUrl);
    expect(first.response.status).toBe(200);
    expect(first.response.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const before = await first.events((event) => event.type === "phase.succeeded");
    expect(before[0]?.type).toBe("session.submitted");
    first.close();
    // The server lets go of a stream whose client left.
    await until(() => stack.events.followers === 0, "the stream's follower to be released", 10_000);

    // More events commit while no one listens.
    const lastSeen = before.at(-1)?.id as string;
    await until(async () => (await eventIds(stack, id)).length >= before.length + 3, "more events");
    // A page opened now, mid-run, without Last-Event-ID.
    const midRun = await openStream(streamUrl);
    // Resume where the first stream stopped.
    const resumed = await openStream(streamUrl, { "last-event-id": lastSeen });
    const rest = await resumed.events(() => false, 60_000);
    const whole = await midRun.events(() => false, 60_000);

    const all = await eventIds(stack, id);
    expect([...before, ...rest].map((event) => event.id)).toEqual(all);
    expect(whole.map((event) => event.id)).toEqual(all);
    expect(rest.at(-1)?.type).toBe("session.succeeded");
    for (const event of [...before, ...rest]) expect(event.sessionId).toBe(id);
    await until(() => stack.events.followers === 0, "every follower to be released", 10_000);
  });

  it("ends an ended session's stream with `event: end`, and resumes from ?lastEventId=", async () => {
    const [sessionId] = (await stack.db.prisma.session.findMany({ select: { id: true } })).map((s) => s.id);
    const ids = await eventIds(stack, sessionId);
    const from = ids[ids.length - 4] as string;
    const stream = await openStream(`${api.url}/api/sessions/${sessionId}/events/stream?lastEventId=${from}`);
    const events = await stream.events(() => false);
    expect(events.map((event) => event.id)).toEqual(ids.slice(-3));
    // `end` came last, and then the server closed the stream.
    const replay = await openStream(`${api.url}/api/sessions/${sessionId}/events/stream`, {
      "last-event-id": ids.at(-1) as string,
    });
    const end = await replay.next();
    expect(end).toEqual({ event: "end", data: JSON.stringify({ status: "succeeded" }), id: undefined });
    expect(await replay.next()).toBeNull();
  });

  it("keeps a quiet stream alive with comment lines", async () => {
    const response = await fetch(`${api.url}/api/events/stream`, {
      headers: { authorization: `Bearer ${API_TOKEN}` },
    });
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    let text = "";
    while (!text.includes(": keep-alive\n\n")) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    expect(text).toMatch(/^retry: \d+\n\n/);
    expect(text).toContain(": keep-alive\n\n");
    await reader.cancel();
    await until(() => stack.events.followers === 0, "the all-sessions follower to be released", 10_000);
  });

  it("streams every session's events in id order, and resumes after a disconnect", async () => {
    const start = (await eventIds(stack)).at(-1) ?? "0";
    const all = await openStream(`${api.url}/api/events/stream`, { "last-event-id": start });
    const a = await stack.submit("Build a URL shortener");
    const b = await stack.submit("Build a chat app");
    const head = await all.events((_, seen) => seen.length >= 5);
    all.close();
    const resumed = await openStream(`${api.url}/api/events/stream?lastEventId=${head.at(-1)?.id}`);
    const ended = new Set<string>();
    const tail = await resumed.events((event) => {
      if (event.type === "session.succeeded") ended.add(event.sessionId);
      return ended.size === 2;
    }, 60_000);
    resumed.close();
    const received = [...head, ...tail].map((event) => BigInt(event.id));
    const expected = (await eventIds(stack)).map(BigInt).filter((id) => id > BigInt(start));
    // In id order, none twice, none missing (up to the last one received).
    expect(received).toEqual(expected.filter((id) => id <= (received.at(-1) as bigint)));
    expect(new Set([...head, ...tail].map((event) => event.sessionId))).toEqual(new Set([a, b]));
  });

  it("answers 404 before streaming an unknown session, and 400 naming a bad Last-Event-ID", async () => {
    const unknown = await stack.request("/api/sessions/00000000-0000-4000-8000-000000000000/events/stream");
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get("content-type")).toMatch(/^application\/json/);
    const [sessionId] = (await stack.db.prisma.session.findMany({ select: { id: true } })).map((s) => s.id);
    const bad = await stack.request(`/api/sessions/${sessionId}/events/stream`, {
      headers: { "last-event-id": "yesterday" },
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toContain("Last-Event-ID");
    const badQuery = await stack.request("/api/events/stream?lastEventId=-1");
    expect(badQuery.status).toBe(400);
    expect(((await badQuery.json()) as { error: { message: string } }).error.message).toContain(
      "lastEventId",
    );
  });
});

describe("the all-sessions stream and transactions that commit out of id order", () => {
  let stack: Stack;
  let api: { url: string; close(): Promise<void> };
  beforeAll(async () => {
    stack = await startStack({ workers: false });
    api = await listen(stack);
  });
  afterAll(async () => {
    await api?.close();
    await stack?.close();
  });

  /** Appends an event for `sessionId` in a transaction that stays open until `finish` is called. */
  async function openTransaction(sessionId: string, message: string) {
    let finish: (commit: boolean) => void = () => {};
    const decided = new Promise<boolean>((resolve) => {
      finish = resolve;
    });
    let appended: () => void = () => {};
    const inserted = new Promise<void>((resolve) => {
      appended = resolve;
    });
    const done = stack.db.prisma
      .$transaction(
        async (tx) => {
          await recordEvent(tx, { sessionId, type: "decision.override", message });
          appended();
          if (!(await decided)) throw new Error("rolled back on purpose");
        },
        { timeout: 30_000 },
      )
      .catch((error: Error) => {
        if (error.message !== "rolled back on purpose") throw error;
      });
    await inserted;
    return { finish, done };
  }

  it("holds back a later id until the transaction holding an earlier one ends, then sends both in order", async () => {
    const a = await stack.submit("session a");
    const b = await stack.submit("session b");
    const start = (await eventIds(stack)).at(-1) ?? "0";
    const all = await openStream(`${api.url}/api/events/stream`, { "last-event-id": start });
    const onlyB = await openStream(`${api.url}/api/sessions/${b}/events/stream`, { "last-event-id": start });

    // A draws the earlier id and stays open; B draws a later one and commits.
    const slow = await openTransaction(a, "a: commits late");
    await recordEvent(stack.db.prisma, {
      sessionId: b,
      type: "decision.override",
      message: "b: commits first",
    });
    // B's own stream has it at once (a session's events commit in id order under its row lock)…
    const [fromB] = await onlyB.events(() => true);
    expect(fromB?.message).toBe("b: commits first");
    // …but the all-sessions stream must not pass A's id while A may still commit it.
    expect(await all.quietFor(800)).toBe(true);

    slow.finish(true);
    await slow.done;
    const [first, second] = await all.events((_, seen) => seen.length === 2);
    expect([first?.message, second?.message]).toEqual(["a: commits late", "b: commits first"]);
    expect(BigInt(first?.id as string)).toBeLessThan(BigInt(second?.id as string));

    // A transaction that rolls back leaves a gap the stream steps over once it has ended.
    const aborted = await openTransaction(a, "a: never commits");
    await recordEvent(stack.db.prisma, {
      sessionId: b,
      type: "decision.override",
      message: "b: after the gap",
    });
    expect(await all.quietFor(500)).toBe(true);
    aborted.finish(false);
    await aborted.done;
    const [afterGap] = await all.events(() => true);
    expect(afterGap?.message).toBe("b: after the gap");
    all.close();
    onlyB.close();
  });

  it("delivers every event once, in id order, while many transactions commit out of order", async () => {
    const sessions = await Promise.all(Array.from({ length: 6 }, (_, i) => stack.submit(`writer ${i}`)));
    const start = (await eventIds(stack)).at(-1) ?? "0";
    const abort = new AbortController();
    const received: bigint[] = [];
    const reader = (async () => {
      for await (const events of stack.events.followAll(BigInt(start), abort.signal)) {
        for (const event of events) received.push(BigInt(event.id));
      }
    })();
    // Each writer appends in a transaction that stays open for a random while after drawing its id,
    // so ids commit out of order across sessions all the time.
    const deadline = Date.now() + 2_500;
    await Promise.all(
      sessions.map(async (sessionId) => {
        while (Date.now() < deadline) {
          await stack.db.prisma.$transaction(async (tx) => {
            await recordEvent(tx, { sessionId, type: "decision.override", message: "concurrent" });
            await sleep(Math.random() * 25);
          });
        }
      }),
    );
    const expected = (await eventIds(stack)).map(BigInt).filter((id) => id > BigInt(start));
    await until(() => received.length >= expected.length, "the reader to catch up", 15_000);
    abort.abort();
    await reader;
    expect(expected.length).toBeGreaterThan(50);
    expect(received).toEqual(expected);
  });
});
