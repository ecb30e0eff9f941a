import { randomBytes } from "node:crypto";
import { ORCHESTRATOR_QUEUE, openQueueConnection, QueueSet } from "@foundry/queue";
import { Client, escapeIdentifier } from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "./support/db.ts";
import { API_TOKEN, createTestApp } from "./support/stack.ts";

// On the PostgreSQL queue backend a burst can take every connection slot the server allows for a
// moment ("sorry, too many clients already"). A submission then waits for a slot (a few seconds at
// most) instead of answering 503 and recording the session as failed. The slots run out here for
// real: the API's queue connection logs in as a role whose CONNECTION LIMIT the test sets to 0 and
// back (a superuser is exempt from such limits, hence the role).
describe("submitting while PostgreSQL has no connection slot left", () => {
  let db: TestDatabase;
  let admin: Client;
  let roleUrl: string;
  const opened: QueueSet[] = [];
  const role = `slots_${randomBytes(4).toString("hex")}`;

  beforeAll(async () => {
    db = await createTestDatabase();
    // BullMQ's tables, made as the superuser; then a role that may use them.
    const migrated = await openQueueConnection({ kind: "postgres", url: db.url }, { role: "producer" });
    await migrated.close();
    admin = new Client({ connectionString: db.url });
    await admin.connect();
    const name = escapeIdentifier(role);
    await admin.query(`CREATE ROLE ${name} LOGIN`);
    await admin.query(`GRANT ALL ON SCHEMA bullmq TO ${name}`);
    for (const kind of ["TABLES", "SEQUENCES", "FUNCTIONS"])
      await admin.query(`GRANT ALL ON ALL ${kind} IN SCHEMA bullmq TO ${name}`);
    const url = new URL(db.url);
    url.username = role;
    roleUrl = url.toString();
  });

  /**
   * The API with queues of its own, logged in as the role: a refusal set before it meets the first
   * connection its queues open (those of an earlier test stay open, and are not used).
   */
  async function openApi() {
    const queues = new QueueSet(
      await openQueueConnection({ kind: "postgres", url: roleUrl }, { role: "producer", migrate: false }),
    );
    opened.push(queues);
    return { queues, app: await createTestApp({ db: db.prisma, queues }) };
  }
  /** No new connection for the role until `allowConnections` (those open stay open). */
  const refuseConnections = () => admin.query(`ALTER ROLE ${escapeIdentifier(role)} CONNECTION LIMIT 0`);
  const allowConnections = () => admin.query(`ALTER ROLE ${escapeIdentifier(role)} CONNECTION LIMIT -1`);
  afterAll(async () => {
    for (const queues of opened) await queues.close().catch(() => {});
    await admin?.query(`DROP OWNED BY ${escapeIdentifier(role)}`).catch(() => {});
    await admin?.query(`DROP ROLE IF EXISTS ${escapeIdentifier(role)}`).catch(() => {});
    await admin?.end();
    await db?.drop();
  });

  const submit = (app: Awaited<ReturnType<typeof createTestApp>>) =>
    app.request("/api/sessions", {
      method: "POST",
      headers: { authorization: `Bearer ${API_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ request: "Build a todo list app" }),
    });

  // The queue's first use is during the refusal: BullMQ's check of its tables fails then, and is
  // made again once a slot is free (BullMQ alone would keep that failure for good).
  it("waits for a slot, then queues the session", async () => {
    await refuseConnections();
    const { queues, app } = await openApi();
    const started = Date.now();
    const answer = submit(app);
    // The queue's connections are refused for a while (SQLSTATE 53300), then allowed again.
    await new Promise((resolve) => setTimeout(resolve, 600));
    await allowConnections();
    const response = await answer;
    expect(response.status).toBe(202);
    // It was refused until then: the answer waited for the slot.
    expect(Date.now() - started).toBeGreaterThanOrEqual(550);
    const { id } = (await response.json()) as { id: string };
    const session = await db.prisma.session.findUniqueOrThrow({ where: { id } });
    expect(session.status).toBe("queued");
    // Its first phase is waiting in the orchestrator queue.
    const counts = await queues.get(ORCHESTRATOR_QUEUE).getJobCounts("waiting", "waiting-children");
    expect(counts).toEqual({ waiting: 1, "waiting-children": 8 });
  });

  it("answers 503 and records the session as failed when no slot frees up in time", async () => {
    await refuseConnections();
    const { app } = await openApi();
    const started = Date.now();
    const response = await submit(app);
    expect(response.status).toBe(503);
    expect(Date.now() - started).toBeGreaterThanOrEqual(4_000);
    const sessions = await db.prisma.session.findMany({ where: { status: "failed" } });
    expect(sessions).toHaveLength(1);
    expect(sessions[0]?.error).toMatch(/too many connections for role/);
  }, 20_000);
});
