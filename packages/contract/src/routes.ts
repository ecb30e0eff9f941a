import { z } from "zod";
import { auditPageSchema, auditQuery } from "./audit.ts";
import { errorSchema, eventId } from "./common.ts";
import { eventPageSchema, eventsQuery, streamQuery } from "./events.ts";
import type { ResponseContract, RouteContract } from "./route.ts";
import {
  cancelResponseSchema,
  createSessionBody,
  fileListSchema,
  fileParams,
  listSessionsQuery,
  retryResponseSchema,
  retrySessionBody,
  sessionPageSchema,
  sessionParams,
  sessionQuery,
  sessionSummarySchema,
  sessionViewSchema,
  submitResponseSchema,
} from "./sessions.ts";
import { infoSchema, statsQuery, statsSchema } from "./stats.ts";
import {
  validateWorkflowBody,
  validWorkflowSchema,
  workflowDetailSchema,
  workflowIssuesSchema,
  workflowListSchema,
  workflowParams,
} from "./workflows.ts";

// Every route of the REST API, once: the API validates its input with these schemas and registers
// its handlers from this table, the OpenAPI document is generated from it, and the client calls it.

const json = (schema: z.ZodType) => ({ "application/json": schema });

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: "Bad input: `details.issues` names each bad field (INVALID_REQUEST, INVALID_JSON).",
  401: "No valid token (UNAUTHORIZED).",
  404: "No such resource (NOT_FOUND; a malformed id is unknown too).",
  409: "The resource's state forbids it (CONFLICT): the message names the status.",
  413: "The body exceeds MAX_BODY_BYTES (PAYLOAD_TOO_LARGE).",
  415: "A body that is not `content-type: application/json` (UNSUPPORTED_MEDIA_TYPE).",
  503: "The job queue is unavailable; try again shortly.",
};

/** Error answers with the common `{ error }` body. */
function errors(...statuses: number[]): Record<number, ResponseContract> {
  return Object.fromEntries(
    statuses.map((status) => [
      status,
      { description: ERROR_DESCRIPTIONS[status] ?? "Refused.", content: json(errorSchema) },
    ]),
  );
}

const ifNoneMatch = z.object({
  "if-none-match": z
    .string()
    .optional()
    .meta({ description: "An ETag from an earlier answer: 304 if unchanged." }),
});

const lastEventIdHeader = z.object({
  "last-event-id": eventId
    .optional()
    .meta({ description: "Resume after this event id (browsers send it when they reconnect)." }),
});

const etagHeader = z.object({ etag: z.string().meta({ description: "A weak validator of the answer." }) });

const SSE_DESCRIPTION =
  "Server-Sent Events. Each message has `id:` (the event id) and `data:` (a SessionEvent as JSON); a " +
  "comment line (`: keep-alive`) comes every 15 s. Reconnect with `Last-Event-ID` (or `?lastEventId=`) " +
  "to resume: nothing is lost and nothing is sent twice.";

const invalidWorkflowError = z
  .object({
    error: z.object({
      code: z.literal("WORKFLOW_INVALID"),
      message: z.string(),
      details: workflowIssuesSchema,
    }),
  })
  .meta({ id: "InvalidWorkflowError" });

export const routes = {
  listSessions: {
    operationId: "listSessions",
    method: "get",
    path: "/api/sessions",
    summary: "List sessions, newest first",
    description: "Keyset-paginated: pass `nextCursor` as `cursor` for the next page.",
    tags: ["sessions"],
    query: listSessionsQuery,
    responses: {
      200: { description: "A page of sessions.", content: json(sessionPageSchema) },
      ...errors(400, 401),
    },
  },
  createSession: {
    operationId: "createSession",
    method: "post",
    path: "/api/sessions",
    summary: "Submit a request",
    description: "Stores the session and queues its workflow. `publish` needs GITHUB_TOKEN on the server.",
    tags: ["sessions"],
    body: createSessionBody,
    responses: {
      202: {
        description: "Accepted and queued.",
        content: json(submitResponseSchema),
        headers: z.object({ location: z.string() }),
      },
      ...errors(400, 401, 413, 415, 503),
    },
  },
  getSession: {
    operationId: "getSession",
    method: "get",
    path: "/api/sessions/{id}",
    summary: "One session in full (or its summary)",
    description:
      "Sends an ETag; a request with a matching `If-None-Match` gets 304 without a body, computed " +
      "without building the view (cheap for pollers). `?view=summary` reads only the session's row.",
    tags: ["sessions"],
    params: sessionParams,
    query: sessionQuery,
    headers: ifNoneMatch,
    responses: {
      200: {
        description: "The session (`SessionView`, or `SessionSummary` with `view=summary`).",
        content: json(z.union([sessionViewSchema, sessionSummarySchema])),
        headers: etagHeader,
      },
      304: { description: "Unchanged since the ETag sent in `If-None-Match`.", headers: etagHeader },
      ...errors(400, 401, 404),
    },
  },
  deleteSession: {
    operationId: "deleteSession",
    method: "delete",
    path: "/api/sessions/{id}",
    summary: "Delete a session that has ended",
    description:
      "Removes its jobs from the queues, its rows (calls, events, files, votes) and its workspace " +
      "directory. A queued or running session is refused with 409 naming its status: cancel it first.",
    tags: ["sessions"],
    params: sessionParams,
    responses: { 204: { description: "Deleted." }, ...errors(401, 404, 409) },
  },
  cancelSession: {
    operationId: "cancelSession",
    method: "post",
    path: "/api/sessions/{id}/cancel",
    summary: "Cancel a queued or running session",
    description: "Calls in flight are aborted and queued jobs removed. 409 when it already ended.",
    tags: ["sessions"],
    params: sessionParams,
    responses: {
      200: { description: "Cancelled.", content: json(cancelResponseSchema) },
      ...errors(401, 404, 409),
    },
  },
  retrySession: {
    operationId: "retrySession",
    method: "post",
    path: "/api/sessions/{id}/retry",
    summary: "Resume a failed or cancelled session",
    description:
      "Resumes from the phase that did not finish, under a new run number; answered calls are reused. " +
      "The body is optional: `{ budgetUsd }` sets a new budget (to resume a session that reached its " +
      "budget). 409 unless the session failed, was cancelled or reached its budget.",
    tags: ["sessions"],
    params: sessionParams,
    body: retrySessionBody,
    optionalBody: true,
    responses: {
      202: { description: "Queued again.", content: json(retryResponseSchema) },
      ...errors(400, 401, 404, 409, 415, 503),
    },
  },
  listSessionEvents: {
    operationId: "listSessionEvents",
    method: "get",
    path: "/api/sessions/{id}/events",
    summary: "A session's events after an id, oldest first",
    tags: ["events"],
    params: sessionParams,
    query: eventsQuery,
    responses: {
      200: { description: "A page of events.", content: json(eventPageSchema) },
      ...errors(400, 401, 404),
    },
  },
  streamSessionEvents: {
    operationId: "streamSessionEvents",
    method: "get",
    path: "/api/sessions/{id}/events/stream",
    summary: "A session's events, live (Server-Sent Events)",
    description:
      `${SSE_DESCRIPTION} Without a Last-Event-ID it starts at the session's first event, so a page ` +
      "opened mid-run gets everything so far, then the rest live. Once the session has ended and " +
      "every event is sent, a last message `event: end` (data: StreamEnd) comes and the stream closes.",
    tags: ["events"],
    params: sessionParams,
    query: streamQuery,
    headers: lastEventIdHeader,
    responses: {
      200: { description: "The stream.", content: { "text/event-stream": z.string() } },
      ...errors(400, 401, 404),
    },
  },
  streamAllEvents: {
    operationId: "streamAllEvents",
    method: "get",
    path: "/api/events/stream",
    summary: "Every session's events, live (Server-Sent Events)",
    description:
      `${SSE_DESCRIPTION} Events come in id order. Without a Last-Event-ID it starts with what happens ` +
      "next. An event is sent once no transaction that could still add an earlier id is open, so " +
      "resuming after an id never skips one that committed late; it never ends by itself.",
    tags: ["events"],
    query: streamQuery,
    headers: lastEventIdHeader,
    responses: {
      200: { description: "The stream.", content: { "text/event-stream": z.string() } },
      ...errors(400, 401),
    },
  },
  listSessionFiles: {
    operationId: "listSessionFiles",
    method: "get",
    path: "/api/sessions/{id}/files",
    summary: "The files a session generated",
    tags: ["files"],
    params: sessionParams,
    responses: { 200: { description: "Path order.", content: json(fileListSchema) }, ...errors(401, 404) },
  },
  getSessionFile: {
    operationId: "getSessionFile",
    method: "get",
    path: "/api/sessions/{id}/files/{path}",
    summary: "One generated file's content",
    description:
      "As `text/plain` with `X-Content-Type-Options: nosniff` and a sandboxing CSP, so that a browser " +
      "never renders model output as a page. The ETag is the content's SHA-256.",
    tags: ["files"],
    params: fileParams,
    greedyParams: { path: ".+" },
    responses: {
      200: {
        description: "The content.",
        content: { "text/plain": z.string() },
        headers: etagHeader.extend({ "content-disposition": z.string() }),
      },
      ...errors(401, 404),
    },
  },
  getSessionArchive: {
    operationId: "getSessionArchive",
    method: "get",
    path: "/api/sessions/{id}/archive",
    summary: "The generated project with its git history (.tar.gz)",
    tags: ["files"],
    params: sessionParams,
    responses: {
      200: {
        description: "A gzip'd tar.",
        content: { "application/gzip": z.string().meta({ format: "binary" }) },
        headers: z.object({ "content-disposition": z.string() }),
      },
      ...errors(401, 404, 409),
    },
  },
  listWorkflows: {
    operationId: "listWorkflows",
    method: "get",
    path: "/api/workflows",
    summary: "The workflows this API loaded",
    tags: ["workflows"],
    responses: { 200: { description: "By name.", content: json(workflowListSchema) }, ...errors(401) },
  },
  getWorkflow: {
    operationId: "getWorkflow",
    method: "get",
    path: "/api/workflows/{name}",
    summary: "One workflow: roles with their providers, phases and tasks",
    tags: ["workflows"],
    params: workflowParams,
    responses: {
      200: { description: "The workflow.", content: json(workflowDetailSchema) },
      ...errors(401, 404),
    },
  },
  validateWorkflow: {
    operationId: "validateWorkflow",
    method: "post",
    path: "/api/workflows/validate",
    summary: "Check a workflow document",
    description:
      'The YAML text travels in a JSON body (`{ "yaml": "…" }`). A document over 256 KiB is a 413; ' +
      "one the loader refuses (syntax, an alias bomb, a bad field, a dangling reference) a 422 listing " +
      "each problem with its line, column, path and what was expected.",
    tags: ["workflows"],
    body: validateWorkflowBody,
    responses: {
      200: { description: "Valid: the workflow as it would run.", content: json(validWorkflowSchema) },
      422: { description: "Invalid: each problem (WORKFLOW_INVALID).", content: json(invalidWorkflowError) },
      ...errors(400, 401, 413, 415),
    },
  },
  getInfo: {
    operationId: "getInfo",
    method: "get",
    path: "/api/info",
    summary: "What this server offers a client (publishing, the default workflow)",
    tags: ["meta"],
    responses: { 200: { description: "The server's options.", content: json(infoSchema) }, ...errors(401) },
  },
  getStats: {
    operationId: "getStats",
    method: "get",
    path: "/api/stats",
    summary: "Load across sessions: calls per minute per provider, queue depths",
    description:
      "Calls per minute and provider from the model-call journal, against each provider's configured " +
      "rate limit, and the jobs in each queue by state. If the queue cannot be read, `queues` is null " +
      "and `queueError` says why (the call counts still come).",
    tags: ["meta"],
    query: statsQuery,
    responses: { 200: { description: "The numbers.", content: json(statsSchema) }, ...errors(400, 401) },
  },
  getOpenApi: {
    operationId: "getOpenApi",
    method: "get",
    path: "/api/openapi.json",
    summary: "This document",
    tags: ["meta"],
    responses: { 200: { description: "OpenAPI 3.1.", content: json(z.record(z.string(), z.unknown())) } },
  },
  getReference: {
    operationId: "getReference",
    method: "get",
    path: "/api/docs",
    summary: "The API reference page (Swagger UI, served locally)",
    tags: ["meta"],
    responses: { 200: { description: "A page.", content: { "text/html": z.string() } }, ...errors(401) },
  },
  getReferenceAsset: {
    operationId: "getReferenceAsset",
    method: "get",
    path: "/api/docs/assets/{file}",
    summary: "A script or stylesheet of the reference page",
    tags: ["meta"],
    params: z.object({ file: z.string().regex(/^[a-z0-9.-]+$/) }),
    responses: {
      200: {
        description: "The file.",
        content: {
          "text/javascript": z.string(),
          "text/css": z.string(),
          "image/png": z.string().meta({ format: "binary" }),
        },
      },
      ...errors(401, 404),
    },
  },
  listAudit: {
    operationId: "listAudit",
    method: "get",
    path: "/api/audit",
    summary: "The audit trail, newest first",
    description:
      "Every action that changes something (submit, publish, cancel, retry, delete, sign-in, failed " +
      "sign-in, sign-out, Bull Board changes) with its time, client address, route, method and " +
      "outcome; kept AUDIT_RETENTION_DAYS. Keyset-paginated: pass `nextCursor` as `cursor`.",
    tags: ["audit"],
    query: auditQuery,
    responses: {
      200: { description: "A page of the audit trail.", content: json(auditPageSchema) },
      ...errors(400, 401),
    },
  },
  getMetrics: {
    operationId: "getMetrics",
    method: "get",
    path: "/metrics",
    summary: "Prometheus metrics of this API process",
    description:
      "Prometheus text format: HTTP requests by route and status, sessions by status, job counts " +
      "per queue. Needs the token; with METRICS_PORT the same text is also served without it on " +
      "METRICS_HOST:METRICS_PORT (workers serve theirs there).",
    tags: ["meta"],
    responses: {
      200: { description: "The metrics.", content: { "text/plain": z.string() } },
      ...errors(401),
    },
  },
  health: {
    operationId: "health",
    method: "get",
    path: "/healthz",
    summary: "Alive",
    tags: ["meta"],
    auth: false,
    responses: { 200: { description: "Alive.", content: json(z.object({ ok: z.literal(true) })) } },
  },
  ready: {
    operationId: "ready",
    method: "get",
    path: "/readyz",
    summary: "Ready: PostgreSQL and the queue answer",
    description: "What is not ready goes to the API's log, not into the answer (no token needed).",
    tags: ["meta"],
    auth: false,
    responses: {
      200: { description: "Ready.", content: json(z.object({ ready: z.literal(true) })) },
      503: { description: "Not ready.", content: json(z.object({ ready: z.literal(false) })) },
    },
  },
} as const satisfies Record<string, RouteContract>;

export type Routes = typeof routes;
