import { setTimeout as sleep } from "node:timers/promises";
import {
  type AuditPage,
  auditPageSchema,
  type CancelResponse,
  type CreateSession,
  cancelResponseSchema,
  errorSchema,
  eventPageSchema,
  type FileList,
  fileListSchema,
  type GeneratedFile,
  type Info,
  infoSchema,
  type RetryResponse,
  retryResponseSchema,
  type SessionEvent,
  type SessionPage,
  type SessionStatus,
  type SessionSummary,
  type SessionView,
  type Stats,
  type StreamEnd,
  type SubmitResponse,
  sessionEventSchema,
  sessionPageSchema,
  sessionSummarySchema,
  sessionViewSchema,
  statsSchema,
  streamEndSchema,
  submitResponseSchema,
  type ValidWorkflow,
  validWorkflowSchema,
  type WorkflowDetail,
  type WorkflowIssues,
  type WorkflowList,
  workflowDetailSchema,
  workflowIssuesSchema,
  workflowListSchema,
} from "@foundry/contract";
import { z } from "zod";
import { ApiRequestError } from "./errors.ts";
import { readEventStream } from "./sse.ts";

export interface ApiClientOptions {
  /** Base URL of the API, e.g. `http://127.0.0.1:3000`. */
  url: string;
  /** Sent as `Authorization: Bearer <token>`. */
  token?: string;
  /** How long to wait for an answer's headers. @default 30_000 */
  timeoutMs?: number;
}

/** `POST /api/sessions`'s body. */
export type SubmitInput = CreateSession;

/** Options of a single request. */
export interface RequestOptions {
  /** Abandons the request; it then rejects with the signal's reason. */
  signal?: AbortSignal;
}

export interface StreamOptions {
  /** Start after this event id (as a reconnecting EventSource would). @default the beginning (a session) or now (all) */
  lastEventId?: string;
  /** Stops the stream; iterating then rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Wait before reconnecting, until the server says otherwise (`retry:`). @default 1000 */
  reconnectMs?: number;
  /** Reconnect when nothing (not even a keep-alive) arrives for this long. @default 45_000 */
  idleTimeoutMs?: number;
  /**
   * Called when the stream broke and is about to be resumed after `delayMs` (after the last event
   * received, so nothing is missed or repeated).
   */
  onReconnect?: (info: { reason: string; delayMs: number; lastEventId: string | undefined }) => void;
}

export interface FollowOptions extends Omit<StreamOptions, "lastEventId"> {}

/** `POST /api/workflows/validate`: the workflow as it would run, or where it is wrong. */
export type WorkflowValidation = ValidWorkflow | WorkflowIssues;

/** A conditional `GET /api/sessions/:id`: unchanged since `etag`, or the session and its new ETag. */
export type SessionPoll =
  | { changed: false; etag: string }
  | { changed: true; etag: string | null; session: SessionView };

const invalidWorkflowSchema = z.object({ error: z.object({ details: workflowIssuesSchema }) });

/**
 * A client of the Foundry REST API (`/api/...`): checks each answer's status and shape against the
 * API's contract (@foundry/contract), bounds the wait for each answer, follows live streams with
 * reconnects, and throws `ApiRequestError` with a message that never contains the token.
 *
 * @example
 * const client = new ApiClient({ url: "http://127.0.0.1:3000", token: process.env.API_TOKEN });
 * const { id } = await client.submit({ request: "Build a todo list app" });
 * await client.follow(id, (event) => console.log(event.message));
 */
export class ApiClient {
  readonly url: string;
  readonly #token: string | undefined;
  readonly #timeoutMs: number;

  constructor(options: ApiClientOptions) {
    this.url = options.url.replace(/\/+$/, "");
    this.#token = options.token || undefined;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
  }

  /** `POST /api/sessions`. */
  async submit(input: SubmitInput, options: RequestOptions = {}): Promise<SubmitResponse> {
    return this.#json("/api/sessions", submitResponseSchema, {
      method: "POST",
      body: JSON.stringify(input),
      signal: options.signal,
    });
  }

  /** `GET /api/sessions`: one page, newest first. */
  async listSessions(
    query: { limit?: number; cursor?: string; status?: string; workflow?: string } = {},
  ): Promise<SessionPage> {
    const params = new URLSearchParams();
    if (query.limit !== undefined) params.set("limit", String(query.limit));
    if (query.cursor) params.set("cursor", query.cursor);
    if (query.status) params.set("status", query.status);
    if (query.workflow) params.set("workflow", query.workflow);
    const search = params.size > 0 ? `?${params}` : "";
    return this.#json(`/api/sessions${search}`, sessionPageSchema);
  }

  /** `GET /api/sessions/:id`, as sent (for `--json`). */
  async sessionJson(id: string): Promise<unknown> {
    return this.#parsedBody(await this.#request(sessionPath(id)), sessionPath(id));
  }

  /** `GET /api/sessions/:id`. */
  async session(id: string, options: RequestOptions = {}): Promise<SessionView> {
    return this.#json(sessionPath(id), sessionViewSchema, { signal: options.signal });
  }

  /** `GET /api/sessions/:id?view=summary`: what a list shows, from one row (cheap to poll). */
  async sessionSummary(id: string, options: RequestOptions = {}): Promise<SessionSummary> {
    return this.#json(`${sessionPath(id)}?view=summary`, sessionSummarySchema, { signal: options.signal });
  }

  /**
   * `GET /api/sessions/:id` with `If-None-Match: etag`: a poll that costs the API one small query
   * while the session has not changed.
   */
  async pollSession(id: string, etag: string | null, options: RequestOptions = {}): Promise<SessionPoll> {
    const path = sessionPath(id);
    const response = await this.#request(path, {
      signal: options.signal,
      headers: etag ? { "if-none-match": etag } : {},
    });
    const next = response.headers.get("etag");
    if (response.status === 304) return { changed: false, etag: next ?? (etag as string) };
    const session = this.#parse(path, await this.#parsedBody(response, path), sessionViewSchema);
    return { changed: true, etag: next, session };
  }

  /** `DELETE /api/sessions/:id`: a session that has ended, with its rows, jobs and workspace (409 otherwise). */
  async delete(id: string): Promise<void> {
    const response = await this.#request(sessionPath(id), { method: "DELETE" });
    await response.body?.cancel();
  }

  /** `GET /api/sessions/:id/events`: events after the event id `after`, oldest first. */
  async events(
    id: string,
    after = "0",
    limit = 500,
    options: RequestOptions = {},
  ): Promise<{ events: SessionEvent[]; last: string }> {
    const params = new URLSearchParams({ after, limit: String(limit) });
    return this.#json(`${sessionPath(id)}/events?${params}`, eventPageSchema, { signal: options.signal });
  }

  /** `POST /api/sessions/:id/cancel`: the session is cancelled at once (409 when it already ended). */
  async cancel(id: string): Promise<CancelResponse> {
    return this.#json(`${sessionPath(id)}/cancel`, cancelResponseSchema, { method: "POST" });
  }

  /**
   * `POST /api/sessions/:id/retry`: a failed, cancelled or over-budget session resumes from the phase
   * that did not finish (with a new budget, when given).
   */
  async retry(id: string, options: { budgetUsd?: number } = {}): Promise<RetryResponse> {
    return this.#json(`${sessionPath(id)}/retry`, retryResponseSchema, {
      method: "POST",
      ...(options.budgetUsd !== undefined && { body: JSON.stringify({ budgetUsd: options.budgetUsd }) }),
    });
  }

  /** `GET /api/sessions/:id/files`: what the session generated (path order, no contents). */
  async files(id: string): Promise<GeneratedFile[]> {
    const list: FileList = await this.#json(`${sessionPath(id)}/files`, fileListSchema);
    return list.files;
  }

  /** `GET /api/sessions/:id/files/:path`: one generated file's content. */
  async fileContent(id: string, path: string): Promise<string> {
    const encoded = path.split("/").map(encodeURIComponent).join("/");
    const response = await this.#request(`${sessionPath(id)}/files/${encoded}`, {
      headers: { accept: "text/plain" },
    });
    return response.text();
  }

  /** `GET /api/audit`: the audit trail, newest first; pass `nextCursor` as `cursor` for the next page. */
  async audit(options: { limit?: number; cursor?: string } & RequestOptions = {}): Promise<AuditPage> {
    const params = new URLSearchParams();
    if (options.limit !== undefined) params.set("limit", String(options.limit));
    if (options.cursor !== undefined) params.set("cursor", options.cursor);
    const query = params.size > 0 ? `?${params}` : "";
    return this.#json(`/api/audit${query}`, auditPageSchema, { signal: options.signal });
  }

  /** `GET /api/workflows`. */
  async workflows(): Promise<WorkflowList> {
    return this.#json("/api/workflows", workflowListSchema);
  }

  /** `GET /api/workflows/:name`: roles with their providers, phases and tasks. */
  async workflow(name: string): Promise<WorkflowDetail> {
    return this.#json(`/api/workflows/${encodeURIComponent(name)}`, workflowDetailSchema);
  }

  /** `GET /api/info`: what this server offers (publishing, the default workflow). */
  async info(): Promise<Info> {
    return this.#json("/api/info", infoSchema);
  }

  /** `GET /api/stats`: calls per minute per provider (with its rate limit) and queue depths. */
  async stats(minutes?: number): Promise<Stats> {
    return this.#json(`/api/stats${minutes === undefined ? "" : `?minutes=${minutes}`}`, statsSchema);
  }

  /**
   * `POST /api/workflows/validate`: `{ valid: true, workflow }`, or `{ valid: false, file, issues }`
   * (each issue with its line, column, path and what was expected) for a document the loader refuses.
   */
  async validateWorkflow(yaml: string, file?: string): Promise<WorkflowValidation> {
    const path = "/api/workflows/validate";
    try {
      return await this.#json(path, validWorkflowSchema, {
        method: "POST",
        body: JSON.stringify({ yaml, ...(file && { file }) }),
      });
    } catch (error) {
      if (error instanceof ApiRequestError && error.status === 422 && error.body !== undefined) {
        return this.#parse(path, error.body, invalidWorkflowSchema).error.details;
      }
      throw error;
    }
  }

  /**
   * `GET /api/sessions/:id/archive`: the project as a tar.gz stream, and the file name the API
   * suggests (Content-Disposition), if it gave a usable one.
   */
  async archive(id: string): Promise<{ filename: string | null; body: ReadableStream<Uint8Array> }> {
    const response = await this.#request(`${sessionPath(id)}/archive`);
    if (!response.body) throw this.#badResponse(`${sessionPath(id)}/archive`, "an empty body");
    return { filename: attachmentName(response.headers.get("content-disposition")), body: response.body };
  }

  /**
   * `GET /api/sessions/:id/events/stream`: the session's events, oldest first, live, until it has
   * ended (the generator then returns its final status). A dropped connection is resumed with
   * `Last-Event-ID`, so nothing is missed or repeated; 4xx answers (unknown session, bad token) throw.
   */
  streamEvents(id: string, options: StreamOptions = {}): AsyncGenerator<SessionEvent, StreamEnd | undefined> {
    return this.#stream(`${sessionPath(id)}/events/stream`, options);
  }

  /** `GET /api/events/stream`: every session's events, in id order, live; it never ends by itself. */
  async *streamAllEvents(options: StreamOptions = {}): AsyncGenerator<SessionEvent, void> {
    yield* this.#stream("/api/events/stream", options);
  }

  /**
   * Calls `onEvent` with each event of the session, oldest first, from the beginning, and returns
   * the final status once the session has ended. It never gives up on its own: to bound the wait,
   * or to stop when the session cannot progress (no worker), abort `options.signal`.
   */
  async follow(
    id: string,
    onEvent: (event: SessionEvent) => void,
    options: FollowOptions = {},
  ): Promise<SessionStatus | undefined> {
    const stream = this.streamEvents(id, options);
    for (;;) {
      const next = await stream.next();
      if (next.done) return next.value?.status;
      onEvent(next.value);
    }
  }

  async *#stream(path: string, options: StreamOptions): AsyncGenerator<SessionEvent, StreamEnd | undefined> {
    const { signal } = options;
    let lastEventId = options.lastEventId;
    let reconnectMs = options.reconnectMs ?? 1_000;
    const idleTimeoutMs = options.idleTimeoutMs ?? 45_000;
    let reason: string;
    for (;;) {
      signal?.throwIfAborted();
      // Aborted when the caller stops, or when the stream goes quiet for too long (then resumed).
      const idle = new AbortController();
      let timer = setTimeout(() => idle.abort(), idleTimeoutMs);
      const activity = () => {
        clearTimeout(timer);
        timer = setTimeout(() => idle.abort(), idleTimeoutMs);
      };
      const stop = signal ? AbortSignal.any([signal, idle.signal]) : idle.signal;
      try {
        const response = await this.#request(path, {
          signal: stop,
          headers: { accept: "text/event-stream", ...(lastEventId && { "last-event-id": lastEventId }) },
        });
        if (!response.body) throw this.#badResponse(path, "an empty body");
        const messages = readEventStream(response.body, {
          onActivity: activity,
          onRetry: (ms) => {
            reconnectMs = ms;
          },
        });
        for await (const message of messages) {
          if (message.event === "end") return this.#parse(path, parseJson(message.data), streamEndSchema);
          if (message.event !== "message") continue;
          const event = this.#parse(path, parseJson(message.data), sessionEventSchema);
          lastEventId = event.id;
          yield event;
        }
        // Closed without `end` (a server restarting): resume.
        reason = "the server closed the stream";
      } catch (error) {
        signal?.throwIfAborted();
        if (error instanceof ApiRequestError && !error.isRetryable) throw error;
        // Otherwise (network, 5xx, a broken or silent stream): resume after a pause.
        reason = idle.signal.aborted
          ? `nothing arrived for ${idleTimeoutMs / 1000} s`
          : error instanceof ApiRequestError
            ? error.message
            : networkReason(error);
      } finally {
        clearTimeout(timer);
      }
      options.onReconnect?.({ reason: this.#redact(reason), delayMs: reconnectMs, lastEventId });
      await sleep(reconnectMs, undefined, { signal }).catch((error: unknown) => {
        signal?.throwIfAborted();
        throw error;
      });
    }
  }

  async #json<T>(path: string, schema: z.ZodType<T>, init: RequestInit = {}): Promise<T> {
    return this.#parse(path, await this.#parsedBody(await this.#request(path, init), path), schema);
  }

  #parse<T>(path: string, body: unknown, schema: z.ZodType<T>): T {
    const parsed = schema.safeParse(body);
    if (!parsed.success) throw this.#badResponse(path, "JSON of an unexpected shape", parsed.error);
    return parsed.data;
  }

  async #parsedBody(response: Response, path: string): Promise<unknown> {
    try {
      return await response.json();
    } catch (cause) {
      throw this.#badResponse(path, "a body that is not JSON", cause);
    }
  }

  /**
   * Sends one request; resolves with a 2xx or 304 response, or throws `ApiRequestError` (or, when
   * the caller's `init.signal` aborts, its reason).
   */
  async #request(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (!headers.has("accept")) headers.set("accept", "application/json");
    if (init.body !== undefined) headers.set("content-type", "application/json");
    if (this.#token) headers.set("authorization", `Bearer ${this.#token}`);
    // The timeout covers the wait for the headers only: an archive or a stream may take longer.
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(), this.#timeoutMs);
    const caller = init.signal ?? undefined;
    const signal = caller ? AbortSignal.any([timeout.signal, caller]) : timeout.signal;
    let response: Response;
    try {
      response = await fetch(`${this.url}${path}`, { ...init, headers, signal });
    } catch (cause) {
      caller?.throwIfAborted();
      if (timeout.signal.aborted) {
        throw new ApiRequestError(
          "TIMEOUT",
          `the API at ${this.url} did not answer within ${this.#timeoutMs / 1000} s`,
          { cause },
        );
      }
      throw new ApiRequestError(
        "UNREACHABLE",
        this.#redact(
          `cannot reach the API at ${this.url}: ${networkReason(cause)}; is it running? (npm run dev)`,
        ),
        { cause },
      );
    } finally {
      clearTimeout(timer);
    }
    if (response.ok || response.status === 304) return response;
    throw await this.#errorFor(response, path);
  }

  async #errorFor(response: Response, path: string): Promise<ApiRequestError> {
    const text = await response.text().catch(() => "");
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      // Not JSON: not this API's error body.
    }
    const parsed = errorSchema.safeParse(body);
    const status = response.status;
    if (status === 401) {
      const message = this.#token
        ? "the API refused the token: set API_TOKEN or --token"
        : "the API wants a token and none was given: set API_TOKEN or --token";
      return new ApiRequestError("UNAUTHORIZED", message, { status, apiCode: parsed.data?.error.code });
    }
    if (!parsed.success) {
      return this.#badResponse(path, `HTTP ${status} ${response.statusText}`.trim(), undefined, status);
    }
    const { code, message } = parsed.data.error;
    if (status >= 500) {
      const text = this.#redact(oneLine(`the API failed (HTTP ${status}): ${message}`));
      return new ApiRequestError("SERVER_ERROR", text, { status, apiCode: code });
    }
    return new ApiRequestError("REJECTED", this.#redact(oneLine(message)), { status, apiCode: code, body });
  }

  /** Messages quote what the network or the server said: the token must not travel with them. */
  #redact(text: string): string {
    const token = this.#token;
    return token && token.length >= 4 ? text.replaceAll(token, "***") : text;
  }

  #badResponse(path: string, what: string, cause?: unknown, status?: number): ApiRequestError {
    return new ApiRequestError(
      "BAD_RESPONSE",
      `unexpected answer from ${this.url}${path.split("?")[0]}: ${what}; is API_URL a Foundry API?`,
      { cause, status },
    );
  }
}

function sessionPath(id: string): string {
  return `/api/sessions/${encodeURIComponent(id)}`;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, " ").trim();
}

/** The most specific reason a fetch gives for not connecting (`connect ECONNREFUSED 127.0.0.1:9`). */
function networkReason(error: unknown): string {
  let cause = (error as { cause?: unknown }).cause ?? error;
  // A host with several addresses fails with one error per address.
  if (cause instanceof AggregateError && cause.errors.length > 0) cause = cause.errors[0];
  if (cause instanceof Error) {
    return oneLine(cause.message || (cause as NodeJS.ErrnoException).code || cause.name);
  }
  return String(cause);
}

/** The file name of `attachment; filename="x.tar.gz"`, reduced to a safe base name. */
function attachmentName(header: string | null): string | null {
  const match = header ? /filename="?([^";]+)"?/i.exec(header) : null;
  const name = match?.[1]?.trim().split(/[\\/]/).at(-1);
  return name && /^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name) ? name : null;
}
