import { Readable } from "node:stream";
import type { PrismaClient } from "@foundry/db";
import {
  type ControlResult,
  cancelSession,
  getSessionView,
  listEvents,
  listSessions,
  openSessionArchive,
  type QueueSet,
  retrySession,
  SESSION_STATUSES,
  submitSession,
} from "@foundry/engine";
import type { WorkflowCatalog } from "@foundry/workflow";
import { Hono } from "hono";
import { z } from "zod";
import { ApiError, parseInput } from "../errors.ts";

export interface SessionRoutesDeps {
  db: PrismaClient;
  queues: QueueSet;
  workflows: WorkflowCatalog;
  /** Whether the server can publish to GitHub (GITHUB_TOKEN is set). */
  canPublish: boolean;
  /** Where the workers write projects (shared with them), for archives with their git history. */
  workspaceDir: string;
}

const createSessionBody = z.strictObject({
  request: z
    .string()
    .trim()
    .min(1, "must not be empty")
    .max(20_000)
    // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
    .refine((text) => !/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(text) && text.isWellFormed(), {
      message: "must be text without control characters",
    }),
  workflow: z
    .string()
    .regex(/^[a-z][a-z0-9_-]*$/, "expected a workflow name such as software-project")
    .max(60)
    .optional(),
  publish: z.boolean().optional(),
  budgetUsd: z.number().positive("must be more than 0").max(1_000_000).optional(),
  cache: z.boolean().optional(),
  repoName: z
    .string()
    .regex(
      /^(?!\.)[A-Za-z0-9._-]{1,100}$/,
      "expected 1–100 letters, digits, '.', '_' or '-', not starting with '.'",
    )
    .optional(),
});

const retryBody = z.strictObject({
  /** A new budget (USD), e.g. to resume a session that reached its budget. */
  budgetUsd: z.number().positive("must be more than 0").max(1_000_000).optional(),
});

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiError(400, "INVALID_JSON", "the request body must be a JSON object");
  }
}

const cursorSchema = z.object({ t: z.iso.datetime(), id: z.uuid() });

const listQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z
    .string()
    .transform((text, ctx) => {
      try {
        const value = cursorSchema.parse(JSON.parse(Buffer.from(text, "base64url").toString("utf8")));
        return { createdAt: new Date(value.t), id: value.id };
      } catch {
        ctx.addIssue({ code: "custom", message: "not a cursor returned by this API" });
        return z.NEVER;
      }
    })
    .optional(),
  status: z.enum(SESSION_STATUSES).optional(),
});

const eventsQuery = z.object({
  after: z
    .string()
    .regex(/^\d{1,19}$/, "expected an event id")
    .refine((id) => BigInt(id) <= 9_223_372_036_854_775_807n, "expected an event id")
    .default("0"),
  limit: z.coerce.number().int().min(1).max(1000).default(500),
});

const sessionId = z.uuid();

function requireSessionId(id: string): string {
  if (!sessionId.safeParse(id).success)
    throw new ApiError(404, "NOT_FOUND", `no session ${JSON.stringify(id.slice(0, 80))}`);
  return id;
}

/** `/api/sessions…`: submit, list, inspect, follow and download sessions. */
export function sessionRoutes(deps: SessionRoutesDeps) {
  const app = new Hono();

  app.post("/", async (c) => {
    const body = await c.req.json().catch(() => {
      throw new ApiError(400, "INVALID_JSON", "the request body must be a JSON object");
    });
    const input = parseInput(createSessionBody, body, "session request");
    if (input.publish && !deps.canPublish) {
      throw new ApiError(
        400,
        "PUBLISH_NOT_CONFIGURED",
        "publishing to GitHub is not available: the server has no GITHUB_TOKEN. Submit without publish, or set GITHUB_TOKEN on the API and the orchestrator workers.",
      );
    }
    const session = await submitSession(deps, input);
    c.header("Location", `/api/sessions/${session.id}`);
    return c.json(
      { id: session.id, status: "queued", workflow: session.workflow, links: links(session.id) },
      202,
    );
  });

  app.get("/", async (c) => {
    const query = parseInput(listQuery, c.req.query(), "query");
    const page = await listSessions(deps.db, {
      limit: query.limit,
      cursor: query.cursor,
      status: query.status,
    });
    const next = page.next
      ? Buffer.from(JSON.stringify({ t: page.next.createdAt.toISOString(), id: page.next.id })).toString(
          "base64url",
        )
      : null;
    return c.json({ sessions: page.sessions, nextCursor: next });
  });

  app.get("/:id", async (c) => {
    const view = await getSessionView(deps.db, requireSessionId(c.req.param("id")));
    if (!view) throw new ApiError(404, "NOT_FOUND", `no session ${c.req.param("id")}`);
    return c.json({ ...view, links: links(view.id) });
  });

  app.get("/:id/events", async (c) => {
    const id = requireSessionId(c.req.param("id"));
    const query = parseInput(eventsQuery, c.req.query(), "query");
    const events = await listEvents(deps.db, id, BigInt(query.after), query.limit);
    if (!events) throw new ApiError(404, "NOT_FOUND", `no session ${id}`);
    return c.json({ events, last: events.at(-1)?.id ?? query.after });
  });

  app.post("/:id/cancel", async (c) => {
    const id = requireSessionId(c.req.param("id"));
    const result = await cancelSession(deps, id, "a user");
    refuseUnless(result, id, "cancelled", "only a queued or running session can be cancelled");
    return c.json({ id, status: "cancelled", links: links(id) });
  });

  app.post("/:id/retry", async (c) => {
    const id = requireSessionId(c.req.param("id"));
    const text = await c.req.text();
    const body = text.trim() === "" ? {} : parseJson(text);
    const options = parseInput(retryBody, body, "retry request");
    let result: ControlResult;
    try {
      result = await retrySession(deps, id, options);
    } catch {
      throw new ApiError(503, "ENQUEUE_FAILED", "the job queue is unavailable; try again shortly");
    }
    refuseUnless(result, id, "retried", "only a failed, cancelled or budget_exceeded session can be retried");
    return c.json({ id, status: "queued", run: result.ok ? result.run : 0, links: links(id) }, 202);
  });

  app.get("/:id/archive", async (c) => {
    const id = requireSessionId(c.req.param("id"));
    const archive = await openSessionArchive(deps.db, deps.workspaceDir, id);
    if (!archive.ok) {
      switch (archive.code) {
        case "NOT_FOUND":
          throw new ApiError(404, "NOT_FOUND", `no session ${id}`);
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

  return app;
}

/** Turns a refused action into its 404 or 409, naming the session's status. */
function refuseUnless(result: ControlResult, id: string, done: string, rule: string): void {
  if (result.ok) return;
  switch (result.code) {
    case "NOT_FOUND":
      throw new ApiError(404, "NOT_FOUND", `no session ${id}`);
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

function links(id: string) {
  return {
    self: `/api/sessions/${id}`,
    events: `/api/sessions/${id}/events`,
    archive: `/api/sessions/${id}/archive`,
    cancel: `/api/sessions/${id}/cancel`,
    retry: `/api/sessions/${id}/retry`,
  };
}
