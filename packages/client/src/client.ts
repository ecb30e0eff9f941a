import { setTimeout as sleep } from "node:timers/promises";
import type { z } from "zod";
import {
  errorBodySchema,
  eventPageSchema,
  type SessionAction,
  type SessionEvent,
  type SessionPage,
  type SessionView,
  type SubmitResponse,
  sessionActionSchema,
  sessionPageSchema,
  sessionViewSchema,
  submitResponseSchema,
  type WorkflowList,
  workflowListSchema,
} from "./api-schemas.ts";
import { ApiRequestError } from "./errors.ts";

export interface ApiClientOptions {
  /** Base URL of the API, e.g. `http://127.0.0.1:3000`. */
  url: string;
  /** Sent as `Authorization: Bearer <token>`. */
  token?: string;
  /** How long to wait for an answer's headers. @default 30_000 */
  timeoutMs?: number;
}

export interface SubmitInput {
  request: string;
  workflow?: string;
  publish?: boolean;
  repoName?: string;
}

/** Options of a single request. */
export interface RequestOptions {
  /** Abandons the request; it then rejects with the signal's reason. */
  signal?: AbortSignal;
}

export interface FollowOptions {
  /** Pause between polls that found no new event. @default 250 */
  pollMs?: number;
  /** Stops following; `follow` then rejects with the signal's reason. */
  signal?: AbortSignal;
}

const FINAL_EVENTS = new Set([
  "session.succeeded",
  "session.failed",
  "session.cancelled",
  "session.budget_exceeded",
]);
const FINAL_STATUSES = new Set(["succeeded", "failed", "cancelled", "budget_exceeded"]);
/** How often a quiet follow asks for the status: a cancelled session ends without an event. */
const STATUS_CHECK_MS = 2_000;

/**
 * A client of the Foundry REST API (`/api/...`): checks each answer's status and shape, bounds the
 * wait for each answer, and throws `ApiRequestError` with a message that never contains the token.
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
  async listSessions(query: { limit?: number; cursor?: string; status?: string } = {}): Promise<SessionPage> {
    const params = new URLSearchParams();
    if (query.limit !== undefined) params.set("limit", String(query.limit));
    if (query.cursor) params.set("cursor", query.cursor);
    if (query.status) params.set("status", query.status);
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
  async cancel(id: string): Promise<SessionAction> {
    return this.#json(`${sessionPath(id)}/cancel`, sessionActionSchema, { method: "POST" });
  }

  /** `POST /api/sessions/:id/retry`: a failed or cancelled session resumes from the phase that did not finish. */
  async retry(id: string): Promise<SessionAction> {
    return this.#json(`${sessionPath(id)}/retry`, sessionActionSchema, { method: "POST" });
  }

  /** `GET /api/workflows`. */
  async workflows(): Promise<WorkflowList> {
    return this.#json("/api/workflows", workflowListSchema);
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
   * Calls `onEvent` with each event of the session, oldest first, from the beginning, and returns
   * once the session has ended: a final event, or a final status such as `cancelled` (a session
   * can end without an event, so a quiet follow asks for the status every couple of seconds).
   * It never gives up on its own: to bound the wait, or to stop when the session cannot progress
   * (no worker), abort `options.signal`.
   */
  async follow(id: string, onEvent: (event: SessionEvent) => void, options: FollowOptions = {}) {
    const { signal } = options;
    let after = "0";
    let checkedAt = 0;
    for (;;) {
      signal?.throwIfAborted();
      const page = await this.events(id, after, undefined, { signal });
      for (const event of page.events) {
        onEvent(event);
        if (FINAL_EVENTS.has(event.type)) return;
      }
      after = page.last;
      if (page.events.length > 0) continue;
      if (Date.now() - checkedAt >= STATUS_CHECK_MS) {
        checkedAt = Date.now();
        if (FINAL_STATUSES.has((await this.session(id, { signal })).status)) {
          // Events written just before the status changed.
          for (const event of (await this.events(id, after, undefined, { signal })).events) onEvent(event);
          return;
        }
      }
      await sleep(options.pollMs ?? 250, undefined, { signal }).catch((error: unknown) => {
        signal?.throwIfAborted();
        throw error;
      });
    }
  }

  async #json<T>(path: string, schema: z.ZodType<T>, init: RequestInit = {}): Promise<T> {
    const body = await this.#parsedBody(await this.#request(path, init), path);
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
   * Sends one request; resolves with a 2xx response, or throws `ApiRequestError` (or, when the
   * caller's `init.signal` aborts, its reason).
   */
  async #request(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    headers.set("accept", "application/json");
    if (init.body !== undefined) headers.set("content-type", "application/json");
    if (this.#token) headers.set("authorization", `Bearer ${this.#token}`);
    // The timeout covers the wait for the headers only: an archive may take longer to stream.
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
    if (response.ok) return response;
    throw await this.#errorFor(response, path);
  }

  async #errorFor(response: Response, path: string): Promise<ApiRequestError> {
    const text = await response.text().catch(() => "");
    let body: unknown = null;
    try {
      body = JSON.parse(text);
    } catch {
      // Not JSON: not this API's error body.
    }
    const parsed = errorBodySchema.safeParse(body);
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
    return new ApiRequestError("REJECTED", this.#redact(oneLine(message)), { status, apiCode: code });
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
