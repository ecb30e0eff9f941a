import { createPrisma, type PrismaClient } from "@foundry/db";
import type { QueueSet } from "@foundry/queue";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "./support/db.ts";
import { closeTestQueues, openTestQueues } from "./support/queues.ts";
import { API_TOKEN, createTestApp } from "./support/stack.ts";
import { startTcpProxy, type TcpProxy } from "./support/tcp-proxy.ts";

// The API while PostgreSQL is unreachable: a 503 that says so (and when to try again), not a 500.
describe("the API without PostgreSQL", () => {
  let db: TestDatabase;
  let proxy: TcpProxy;
  let prisma: PrismaClient;
  let queues: QueueSet;
  let app: Awaited<ReturnType<typeof createTestApp>>;
  const errors: Error[] = [];
  const warnings: string[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    const target = new URL(db.url);
    proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
    prisma = createPrisma(proxy.rewrite(db.url));
    queues = await openTestQueues({ databaseUrl: db.url, role: "producer" });
    app = await createTestApp({
      db: prisma,
      queues,
      logError: (error) => errors.push(error),
      logWarning: (_, message) => warnings.push(message),
    });
  });
  afterAll(async () => {
    if (queues) await closeTestQueues(queues);
    await prisma?.$disconnect();
    await proxy?.close();
    await db?.drop();
  });

  const call = (path: string, init: RequestInit = {}) =>
    app.request(path, {
      ...init,
      headers: { authorization: `Bearer ${API_TOKEN}`, "content-type": "application/json" },
    });

  it("answers 503 with Retry-After naming the database, for reads and for submissions", async () => {
    expect((await call("/api/sessions")).status).toBe(200);
    proxy.cut();
    for (const response of [
      await call("/api/sessions"),
      await call("/api/sessions", {
        method: "POST",
        body: JSON.stringify({ request: "Build a todo list app" }),
      }),
    ]) {
      expect(response.status).toBe(503);
      expect(response.headers.get("retry-after")).toBe("5");
      expect(await response.json()).toEqual({
        error: { code: "SERVICE_UNAVAILABLE", message: "the database is unavailable; try again shortly" },
      });
    }
    expect(errors).toEqual([]);
    proxy.restore();
    expect((await call("/api/sessions")).status).toBe(200);
  });
});
