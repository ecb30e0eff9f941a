// The API process: parse the environment, apply migrations, serve. Stateless: run as many as you like.
import { createPrisma, migrate } from "@foundry/db";
import { EventFeed } from "@foundry/engine";
import { type MetricsServer, serveMetrics } from "@foundry/metrics";
import {
  checkQueueRedis,
  chooseQueueBackend,
  describeQueueBackend,
  openQueueConnection,
  type QueueBackend,
  QueueSet,
} from "@foundry/queue";
import { createLogger, onShutdown } from "@foundry/runtime";
import { WorkflowCatalog } from "@foundry/workflow";
import { serve } from "@hono/node-server";
import { apiMetrics, createApp } from "./app.ts";
import { parseApiEnv } from "./config.ts";

let env: ReturnType<typeof parseApiEnv>;
let backend: QueueBackend;
try {
  env = parseApiEnv(process.env);
  backend = chooseQueueBackend(env);
} catch (error) {
  console.error(`api: ${(error as Error).message}`);
  process.exit(1);
}
const log = createLogger({ name: "api", level: env.LOG_LEVEL });

let workflows: WorkflowCatalog;
let queues: QueueSet;
try {
  await checkQueueRedis(backend, log);
  workflows = await WorkflowCatalog.load(env.WORKFLOWS_DIR);
  await migrate(env.DATABASE_URL, { log: (message) => log.info({}, message) });
  queues = new QueueSet(
    await openQueueConnection(backend, {
      role: "producer",
      poolSize: 10,
      onError: (error, repeats) =>
        log.warn({ error: error.message, repeats }, "queue store: connection problem"),
    }),
  );
} catch (error) {
  console.error(`api: ${(error as Error).message}`);
  process.exit(1);
}
log.info({}, `queues: ${describeQueueBackend(backend)}`);
const db = createPrisma(env.DATABASE_URL);
// One LISTEN connection for the live event streams (it reconnects by itself; streams also poll).
const events = await EventFeed.listen(env.DATABASE_URL, {
  db,
  onError: (error) => log.warn({ err: error }, "event listener: connection problem; reconnecting"),
});

const logWarning = (details: Record<string, unknown>, message: string) => log.warn(details, message);
const metrics = apiMetrics({ db, queues }, logWarning, { processMetrics: true });
const app = createApp({
  db,
  queues,
  metrics,
  auditRetentionDays: env.AUDIT_RETENTION_DAYS,
  workflows,
  events,
  apiToken: env.API_TOKEN,
  canPublish: env.GITHUB_TOKEN !== undefined,
  rateLimits: {
    openai: env.OPENAI_RATE_LIMIT,
    anthropic: env.ANTHROPIC_RATE_LIMIT,
    gemini: env.GEMINI_RATE_LIMIT,
  },
  workspaceDir: env.WORKSPACE_DIR,
  maxBodyBytes: env.MAX_BODY_BYTES,
  loginRateLimit: env.LOGIN_RATE_LIMIT,
  trustProxy: env.TRUST_PROXY === "true",
  logError: (error) => log.error({ err: error }, "unhandled error"),
  logWarning,
  // LOG_LEVEL=debug for an access log.
  logRequest: (entry, message) => log.debug(entry, message),
});

const server = serve({ fetch: app.fetch, port: env.PORT, hostname: env.HOST }, (info) => {
  log.info(
    { port: info.port, workflows: workflows.names() },
    `api listening on http://${env.HOST}:${info.port}`,
  );
});

// Without authentication, on its own port (loopback by default), for a scraper without the token.
let metricsServer: MetricsServer | undefined;
if (env.METRICS_PORT !== undefined) {
  try {
    metricsServer = await serveMetrics({
      metrics,
      port: env.METRICS_PORT,
      host: env.METRICS_HOST,
      onError: (error) => log.warn({ err: error }, "metrics: scrape failed"),
    });
    log.info({}, `metrics on http://${metricsServer.host}:${metricsServer.port}/metrics`);
  } catch (error) {
    console.error(`api: METRICS_PORT: ${(error as Error).message}`);
    process.exit(1);
  }
}

onShutdown(
  async () => {
    await metricsServer?.close();
    // Stop accepting, let requests in flight finish, and drop idle keep-alive connections.
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    if ("closeIdleConnections" in server) server.closeIdleConnections();
    // Ends the open event streams (their clients resume elsewhere with Last-Event-ID).
    await events.close();
    await closed;
    await queues.close();
    await db.$disconnect();
    log.info({}, "stopped");
  },
  { timeoutMs: 10_000, log: (message) => log.info({}, message) },
);
