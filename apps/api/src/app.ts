import type { PrismaClient } from "@foundry/db";
import type { QueueSet } from "@foundry/engine";
import type { WorkflowCatalog } from "@foundry/workflow";
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { requireToken } from "./auth.ts";
import { ApiError, errorBody, handleError } from "./errors.ts";
import { sessionRoutes } from "./routes/sessions.ts";

export interface AppDeps {
  db: PrismaClient;
  queues: QueueSet;
  workflows: WorkflowCatalog;
  apiToken: string;
  canPublish: boolean;
  maxBodyBytes: number;
  /** Called with unexpected errors (the response says only "internal error"). */
  logError: (error: Error) => void;
  /** Extra routes mounted by main (Bull Board, the dashboard). */
  extend?: (app: Hono) => void;
}

/** The HTTP API. Everything under /api needs the token; /healthz and /readyz do not. */
export function createApp(deps: AppDeps): Hono {
  const app = new Hono();
  app.onError((error, c) => handleError(error, c, deps.logError));
  app.notFound((c) => c.json(errorBody("NOT_FOUND", `no route ${c.req.method} ${c.req.path}`), 404));

  app.get("/healthz", (c) => c.json({ ok: true }));
  app.get("/readyz", async (c) => {
    const [postgres, redis] = await Promise.all([
      deps.db.$queryRaw`select 1`.then(
        () => "ok",
        (error: Error) => error.message,
      ),
      deps.queues.redis.ping().then(
        () => "ok",
        (error: Error) => error.message,
      ),
    ]);
    const ready = postgres === "ok" && redis === "ok";
    return c.json({ ready, postgres, redis }, ready ? 200 : 503);
  });

  app.use("/api/*", requireToken(deps.apiToken));
  app.use(
    "/api/*",
    bodyLimit({
      maxSize: deps.maxBodyBytes,
      onError: () => {
        throw new ApiError(413, "PAYLOAD_TOO_LARGE", `the request body exceeds ${deps.maxBodyBytes} bytes`);
      },
    }),
  );
  app.route("/api/sessions", sessionRoutes(deps));
  app.get("/api/workflows", (c) =>
    c.json({
      workflows: deps.workflows.names().map((name) => {
        const workflow = deps.workflows.get(name);
        return {
          name,
          description: workflow.description,
          phases: workflow.phases.map((p) => ({ id: p.id, title: p.title, kind: p.kind })),
        };
      }),
    }),
  );
  deps.extend?.(app);
  return app;
}
