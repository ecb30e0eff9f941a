import { routes, SESSION_STATUSES } from "@foundry/contract";
import type { PrismaClient } from "@foundry/db";
import { EventFeed } from "@foundry/engine";
import type { ProviderName } from "@foundry/llm";
import { FoundryMetrics } from "@foundry/metrics";
import type { QueueSet } from "@foundry/queue";
import { countSessionsByStatus, pingDatabase, type RateLimit } from "@foundry/store";
import type { WorkflowCatalog } from "@foundry/workflow";
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { AuditTrail } from "./audit-trail.ts";
import { refuseCrossSiteWrites, requireToken } from "./auth.ts";
import { BOARD_PATH, boardRoutes } from "./board.ts";
import { handle } from "./contract-route.ts";
import { DASHBOARD_PATH, dashboardRoutes } from "./dashboard.ts";
import { ApiError, errorBody, handleError } from "./errors.ts";
import { httpMetrics, type RequestLogEntry } from "./http-metrics.ts";
import { requireJsonBody } from "./json-body.ts";
import { loginLocation, loginRoutes } from "./login.ts";
import { type LoginRateLimit, LoginRateLimiter } from "./login-rate-limit.ts";
import { LoginSessions } from "./login-sessions.ts";
import { auditRoutes } from "./routes/audit.ts";
import { eventRoutes } from "./routes/events.ts";
import { fileRoutes } from "./routes/files.ts";
import { infoRoutes } from "./routes/info.ts";
import { metricsRoutes } from "./routes/metrics.ts";
import { referenceRoutes } from "./routes/reference.ts";
import { sessionRoutes } from "./routes/sessions.ts";
import { workflowRoutes } from "./routes/workflows.ts";

export interface AppDeps {
  db: PrismaClient;
  queues: QueueSet;
  workflows: WorkflowCatalog;
  apiToken: string;
  canPublish: boolean;
  /** Each provider's rate limit as the workers have it (for `GET /api/stats`). */
  rateLimits?: Partial<Record<ProviderName, RateLimit>>;
  /** Where the workers write projects (a volume shared with them). */
  workspaceDir: string;
  maxBodyBytes: number;
  /** Called with unexpected errors (the response says only "internal error"). */
  logError: (error: Error) => void;
  /**
   * Called with what is wrong when `/readyz` answers "not ready" (the unauthenticated answer
   * carries no details). @default logError with an Error carrying the same message
   */
  logWarning?: (details: Record<string, unknown>, message: string) => void;
  /** An access log: each request's method, route pattern, path, status, duration and session id. @default none */
  logRequest?: (entry: RequestLogEntry, message: string) => void;
  /** Serve the dashboard at /, Bull Board at /admin/queues and the login page at /login. @default true */
  board?: boolean;
  /** Mark the login cookie `Secure` even on plain-http requests (behind a TLS proxy). @default false */
  secureCookies?: boolean;
  /** Sign-in attempts allowed per client address and window. @default 10 per 60 s */
  loginRateLimit?: LoginRateLimit;
  /** Read the client's address from `X-Forwarded-For` (behind a proxy). @default false */
  trustProxy?: boolean;
  /**
   * Live events for the streams: `EventFeed.listen(databaseUrl, …)` in production (one LISTEN
   * connection; the caller closes it). @default a feed that polls every 3 s without listening
   */
  events?: EventFeed;
  /** Comment lines on quiet event streams. @default 15000 */
  sseKeepAliveMs?: number;
  /**
   * This process's metrics, served at `/metrics` (behind the token) and fed by every request.
   * @default metrics with sessions by status and the queues' job counts, without process metrics
   */
  metrics?: FoundryMetrics;
  /** Audit rows older than this many days are deleted. @default 90 */
  auditRetentionDays?: number;
}

/** Sign-in attempts per client address: enough for a person, far too few to guess a token. */
const DEFAULT_LOGIN_RATE_LIMIT: LoginRateLimit = { max: 10, windowSeconds: 60 };

/**
 * The HTTP API. Everything under /api, /admin/queues and the dashboard (/) needs the token (a bearer header, or the
 * cookie `POST /login` sets); /healthz, /readyz and /login do not.
 */
export function createApp(deps: AppDeps): Hono {
  const app = new Hono();
  app.onError((error, c) => handleError(error, c, deps.logError));
  app.notFound((c) => c.json(errorBody("NOT_FOUND", `no route ${c.req.method} ${c.req.path}`), 404));

  const logWarning =
    deps.logWarning ??
    ((details, message) => deps.logError(new Error(`${message}: ${JSON.stringify(details)}`)));
  const metrics = deps.metrics ?? apiMetrics(deps, logWarning);
  // First, so that requests refused by the middleware below (401, 403, 413) are counted and audited.
  app.use("*", httpMetrics(metrics, deps.logRequest));
  const audit = new AuditTrail({
    db: deps.db,
    trustProxy: deps.trustProxy,
    retentionDays: deps.auditRetentionDays,
    boardPath: deps.board === false ? undefined : BOARD_PATH,
    onError: (error, message) => logWarning({ error: error.message }, message),
  });
  app.use("*", audit.middleware());

  handle(app, routes.health, (c) => c.json({ ok: true as const }));
  // Unauthenticated, so it says only ready or not: why (hosts, driver messages) goes to the log.
  handle(app, routes.ready, async (c) => {
    const [postgres, queues] = await Promise.all([probe(pingDatabase(deps.db)), probe(deps.queues.ping())]);
    if (postgres === "ok" && queues === "ok") return c.json({ ready: true as const });
    logWarning({ postgres, queues, queueBackend: deps.queues.connection.backend.kind }, "not ready");
    return c.json({ ready: false as const }, 503);
  });

  // A browser's cookie rides along on requests other sites make: those writes are refused, as on
  // the login and board routes. Scripts with a bearer token (no cookie, no Origin) are unaffected.
  app.use("/api/*", refuseCrossSiteWrites({ unlessBearer: true }));
  const auth = { token: deps.apiToken, sessions: new LoginSessions(deps.db) };
  // A browser opening a page under /api (the reference) without signing in goes to the login page.
  const onPage =
    deps.board === false
      ? undefined
      : (target: string) => new Response(null, { status: 302, headers: { location: loginLocation(target) } });
  app.use("/api/*", requireToken(auth, { onPage }));
  app.use(routes.getMetrics.path, requireToken(auth));
  app.use(
    "/api/*",
    bodyLimit({
      maxSize: deps.maxBodyBytes,
      onError: () => {
        throw new ApiError(413, "PAYLOAD_TOO_LARGE", `the request body exceeds ${deps.maxBodyBytes} bytes`);
      },
    }),
  );
  app.use("/api/*", requireJsonBody());
  sessionRoutes(app, deps);
  eventRoutes(app, {
    db: deps.db,
    feed: deps.events ?? new EventFeed({ db: deps.db }),
    keepAliveMs: deps.sseKeepAliveMs,
    logError: deps.logError,
  });
  fileRoutes(app, deps);
  workflowRoutes(app, deps);
  infoRoutes(app, deps);
  referenceRoutes(app);
  auditRoutes(app, deps);
  metricsRoutes(app, metrics);
  if (deps.board !== false) {
    app.route(
      "/",
      loginRoutes({
        auth,
        rateLimiter: new LoginRateLimiter(deps.db, deps.loginRateLimit ?? DEFAULT_LOGIN_RATE_LIMIT),
        trustProxy: deps.trustProxy,
        defaultNext: DASHBOARD_PATH,
        secureCookie: deps.secureCookies,
      }),
    );
    app.route(BOARD_PATH, boardRoutes({ queues: deps.queues, auth }));
    app.route("/", dashboardRoutes({ auth }));
  }
  return app;
}

/** The API's metrics: requests (fed by the middleware), sessions by status and the queues' job counts. */
export function apiMetrics(
  deps: Pick<AppDeps, "db" | "queues">,
  logWarning: (details: Record<string, unknown>, message: string) => void,
  options: { processMetrics?: boolean } = {},
): FoundryMetrics {
  return new FoundryMetrics({
    defaultLabels: { service: "api" },
    processMetrics: options.processMetrics,
    sessionCounts: () => countSessionsByStatus(deps.db),
    sessionStatuses: SESSION_STATUSES,
    queues: deps.queues.all(),
    onCollectError: (error, collector) =>
      logWarning({ collector, error: error.message }, "metrics: a collector failed; its series are left out"),
  });
}

/** "ok", or why not, within two seconds (a health check must answer even when a service hangs). */
async function probe(check: Promise<unknown>): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve("no answer within 2 s"), 2_000);
  });
  try {
    return await Promise.race([
      check.then(
        () => "ok",
        (error: Error) => error.message,
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
