import { Readable } from "node:stream";
import { routes, type SessionView, sessionLinks } from "@foundry/contract";
import type { PrismaClient } from "@foundry/db";
import {
  type ControlResult,
  cancelSession,
  deleteSession,
  retrySession,
  submitSession,
} from "@foundry/engine";
import type { QueueSet } from "@foundry/queue";
import { getSessionSummary, getSessionView, listEvents, listSessions, sessionVersion } from "@foundry/store";
import type { WorkflowCatalog } from "@foundry/workflow";
import { openSessionArchive } from "@foundry/workspace";
import type { Hono } from "hono";
import { z } from "zod";
import { noteAudit } from "../audit-trail.ts";
import { handle } from "../contract-route.ts";
import { ApiError } from "../errors.ts";
import { ifNoneMatchHits, jsonFingerprint, weakEtag } from "../etag.ts";

export interface SessionRoutesDeps {
  db: PrismaClient;
  queues: QueueSet;
  workflows: WorkflowCatalog;
  /** Whether the server can publish to GitHub (GITHUB_TOKEN is set). */
  canPublish: boolean;
  /** Where the workers write projects (shared with them), for archives and deletion. */
  workspaceDir: string;
}

const cursorSchema = z.object({ t: z.iso.datetime(), id: z.uuid() });

/** The position a `nextCursor` names; a value this API did not make is a 400 naming `cursor`. */
function decodeCursor(text: string): { createdAt: Date; id: string } {
  try {
    const value = cursorSchema.parse(JSON.parse(Buffer.from(text, "base64url").toString("utf8")));
    return { createdAt: new Date(value.t), id: value.id };
  } catch {
    throw new ApiError(400, "INVALID_REQUEST", "invalid query: cursor: not a cursor returned by this API", {
      issues: [{ path: "cursor", message: "not a cursor returned by this API" }],
    });
  }
}

const encodeCursor = (next: { createdAt: Date; id: string }) =>
  Buffer.from(JSON.stringify({ t: next.createdAt.toISOString(), id: next.id })).toString("base64url");

const notFound = (id: string) => new ApiError(404, "NOT_FOUND", `no session ${id}`);

/** `/api/sessions…`: submit, list, inspect, cancel, retry, delete, follow and download sessions. */
export function sessionRoutes(app: Hono, deps: SessionRoutesDeps): void {
  handle(app, routes.createSession, async (c, { body }) => {
    noteAudit(c, {
      action: body.publish ? "session.publish" : "session.submit",
      detail: {
        workflow: body.workflow ?? null,
        publish: body.publish === true,
        ...(body.repoName !== undefined && { repoName: body.repoName }),
        ...(body.budgetUsd !== undefined && { budgetUsd: body.budgetUsd }),
      },
    });
    if (body.publish && !deps.canPublish) {
      throw new ApiError(
        400,
        "PUBLISH_NOT_CONFIGURED",
        "publishing to GitHub is not available: the server has no GITHUB_TOKEN. Submit without publish, or set GITHUB_TOKEN on the API and the orchestrator workers.",
      );
    }
    const session = await submitSession(deps, body);
    noteAudit(c, { sessionId: session.id, detail: { workflow: session.workflow } });
    c.header("Location", `/api/sessions/${session.id}`);
    return c.json(
      {
        id: session.id,
        status: "queued" as const,
        workflow: session.workflow,
        links: sessionLinks(session.id),
      },
      202,
    );
  });

  handle(app, routes.listSessions, async (c, { query }) => {
    const page = await listSessions(deps.db, {
      limit: query.limit,
      cursor: query.cursor === undefined ? undefined : decodeCursor(query.cursor),
      status: query.status,
      workflow: query.workflow,
    });
    return c.json({ sessions: page.sessions, nextCursor: page.next ? encodeCursor(page.next) : null });
  });

  handle(app, routes.getSession, async (c, { params: { id }, query }) => {
    c.header("Cache-Control", "private, no-cache");
    if (query.view === "summary") {
      const summary = await getSessionSummary(deps.db, id);
      if (!summary) throw notFound(id);
      const etag = weakEtag("s", jsonFingerprint(summary));
      c.header("ETag", etag);
      if (ifNoneMatchHits(c.req.header("if-none-match"), etag)) return c.body(null, 304);
      return c.json(summary);
    }
    // The fingerprint is read before the view, so the view is never older than its ETag.
    const version = await sessionVersion(deps.db, id);
    if (version === null) throw notFound(id);
    const etag = weakEtag("f", version);
    c.header("ETag", etag);
    if (ifNoneMatchHits(c.req.header("if-none-match"), etag)) return c.body(null, 304);
    const view = await getSessionView(deps.db, id);
    if (!view) throw notFound(id);
    return c.json({ ...view, links: sessionLinks(id) } satisfies SessionView);
  });

  handle(app, routes.deleteSession, async (c, { params: { id } }) => {
    const result = await deleteSession(deps, id);
    if (result.ok) return c.body(null, 204);
    switch (result.code) {
      case "NOT_FOUND":
        throw notFound(id);
      case "CONFLICT":
        throw new ApiError(
          409,
          "CONFLICT",
          `session ${id} is ${result.status}: it cannot be deleted (only a session that has ended can be; cancel it first)`,
          { status: result.status },
        );
      case "JOBS_IN_FLIGHT":
        throw new ApiError(
          409,
          "JOBS_IN_FLIGHT",
          `session ${id} is ${result.status} but a job of it is still stopping; try again in a few seconds`,
          { status: result.status },
        );
      default:
        return result satisfies never;
    }
  });

  handle(app, routes.listSessionEvents, async (c, { params: { id }, query }) => {
    const events = await listEvents(deps.db, id, BigInt(query.after), query.limit);
    if (!events) throw notFound(id);
    return c.json({ events, last: events.at(-1)?.id ?? query.after });
  });

  handle(app, routes.cancelSession, async (c, { params: { id } }) => {
    const result = await cancelSession(deps, id, "a user");
    refuseUnless(result, id, "cancelled", "only a queued or running session can be cancelled");
    return c.json({ id, status: "cancelled" as const, links: sessionLinks(id) });
  });

  handle(app, routes.retrySession, async (c, { params: { id }, body }) => {
    if (body.budgetUsd !== undefined) noteAudit(c, { detail: { budgetUsd: body.budgetUsd } });
    let result: ControlResult;
    try {
      result = await retrySession(deps, id, body);
    } catch {
      throw new ApiError(503, "ENQUEUE_FAILED", "the job queue is unavailable; try again shortly");
    }
    refuseUnless(result, id, "retried", "only a failed, cancelled or budget_exceeded session can be retried");
    return c.json(
      { id, status: "queued" as const, run: result.ok ? result.run : 0, links: sessionLinks(id) },
      202,
    );
  });

  handle(app, routes.getSessionArchive, async (_c, { params: { id } }) => {
    const archive = await openSessionArchive(deps.db, deps.workspaceDir, id);
    if (!archive.ok) {
      switch (archive.code) {
        case "NOT_FOUND":
          throw notFound(id);
        case "NO_FILES":
          throw new ApiError(
            409,
            "NO_FILES",
            `session ${id} has no generated files yet (status: ${archive.status})`,
          );
        default:
          archive satisfies never;
      }
    }
    return new Response(Readable.toWeb(archive.stream) as ReadableStream, {
      headers: {
        "content-type": "application/gzip",
        "content-disposition": `attachment; filename="${archive.filename}"`,
      },
    });
  });
}

/** Turns a refused action into its 404 or 409, naming the session's status. */
function refuseUnless(result: ControlResult, id: string, done: string, rule: string): void {
  if (result.ok) return;
  switch (result.code) {
    case "NOT_FOUND":
      throw notFound(id);
    case "CONFLICT":
      throw new ApiError(
        409,
        "CONFLICT",
        `session ${id} is ${result.status}: it cannot be ${done} (${rule})`,
        { status: result.status },
      );
    default:
      result satisfies never;
  }
}
