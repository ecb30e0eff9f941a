import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findRedisServer, type LocalRedis, startPrivateRedis } from "@foundry/devstack";
import { openQueueConnection, QueueSet } from "@foundry/queue";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "./support/db.ts";
import { API_TOKEN, createTestApp } from "./support/stack.ts";

// The API while Redis is down: submissions answer 503 at once (and the accepted row is marked
// failed, not left queued forever), and /readyz says "not ready" (why goes to the log), instead of hanging.
describe.skipIf(findRedisServer() === null)("the API without Redis", () => {
  let dir: string;
  let redis: LocalRedis;
  let db: TestDatabase;
  let queues: QueueSet;
  let app: Awaited<ReturnType<typeof createTestApp>>;
  const warnings: Array<{ details: Record<string, unknown>; message: string }> = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "redis-down-"));
    await chmod(dir, 0o755);
    redis = await startPrivateRedis({ dataDir: join(dir, "redis") });
    db = await createTestDatabase();
    const backend = { kind: "redis" as const, url: redis.url, prefix: "redis-down", cluster: false };
    queues = new QueueSet(await openQueueConnection(backend, { role: "producer" }));
    app = await createTestApp({
      db: db.prisma,
      queues,
      workspaceDir: dir,
      logWarning: (details, message) => warnings.push({ details, message }),
    });
  });
  afterAll(async () => {
    await queues?.close().catch(() => {});
    await redis?.stop();
    await db?.drop();
    await rm(dir, { recursive: true, force: true });
  });

  const submit = () =>
    app.request("/api/sessions", {
      method: "POST",
      headers: { authorization: `Bearer ${API_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ request: "Build a todo list app" }),
    });

  it("answers 503 for a submission and 503 for readiness, quickly, and keeps what was stored", async () => {
    expect((await submit()).status).toBe(202);
    expect((await app.request("/readyz")).status).toBe(200);
    await redis.stop();

    const refused = await submit();
    expect(refused.status).toBe(503);
    expect(await refused.json()).toEqual({
      error: { code: "ENQUEUE_FAILED", message: "the job queue is unavailable; try again shortly" },
    });
    const ready = await app.request("/readyz");
    expect(ready.status).toBe(503);
    // Unauthenticated: no hosts, ports or driver messages in the answer, only in the log.
    expect(await ready.json()).toEqual({ ready: false });
    expect(warnings).toEqual([
      {
        message: "not ready",
        details: { postgres: "ok", queues: expect.stringMatching(/\S/), queueBackend: "redis" },
      },
    ]);

    const sessions = await db.prisma.session.findMany({ orderBy: { createdAt: "asc" } });
    expect(sessions.map((session) => session.status)).toEqual(["queued", "failed"]);
    expect(sessions[1]?.error).toMatch(/^could not queue the session: /);
    // A generous bound, not a measurement: before the fix these requests never answered.
  }, 20_000);
});
