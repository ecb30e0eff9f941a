// The audit trail: each action that changes something (submit, publish, cancel, retry, delete,
// sign-in, failed sign-in, sign-out), refused and unauthenticated attempts included, is a row with
// its time, client address, route pattern, method, outcome and session; GET /api/audit lists them
// newest first with a cursor; rows past AUDIT_RETENTION_DAYS go; no token ever lands in a row; and a
// row that cannot be written does not fail the action.
import { Writable } from "node:stream";
import { ApiClient } from "@foundry/client";
import { type AuditEntry, auditPageSchema } from "@foundry/contract";
import { createLogger } from "@foundry/runtime";
import { serve } from "@hono/node-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { API_TOKEN, type Stack, startStack } from "./support/stack.ts";
import { until } from "./support/wait.ts";

const WRONG_TOKEN = "a-guess-that-is-not-the-token-4821";
let stack: Stack;
const warnings: string[] = [];
let oldRow: bigint;

beforeAll(async () => {
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString("utf8").split("\n").filter(Boolean)) {
        const entry = JSON.parse(line) as { level: number; msg: string };
        if (entry.level >= 40) warnings.push(entry.msg);
      }
      done();
    },
  });
  // No workers: sessions stay queued, so that each action is the API's alone (and fast).
  stack = await startStack({
    workers: false,
    canPublish: true,
    log: createLogger({ name: "test", level: "warn", destination: sink }),
  });
  // Older than the 90 days kept by default: the first row written prunes it.
  const old = await stack.db.prisma.auditEntry.create({
    data: {
      at: new Date(Date.now() - 91 * 86_400_000),
      action: "session.submit",
      outcome: "succeeded",
      route: "/api/sessions",
      method: "POST",
      clientAddress: "192.0.2.1",
    },
  });
  oldRow = old.id;
});
afterAll(() => stack?.close());

const form = (fields: Record<string, string>, cookie?: string) =>
  stack.app.request("/login", {
    method: "POST",
    body: new URLSearchParams(fields),
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      ...(cookie && { cookie }),
    },
  });

async function auditPage(query = ""): Promise<{ items: AuditEntry[]; nextCursor: string | null }> {
  const response = await stack.request(`/api/audit${query}`);
  expect(response.status).toBe(200);
  return auditPageSchema.parse(await response.json());
}

describe("the audit trail", () => {
  let id: string;
  let published: string;

  it("records every action with its outcome, route, method, client and session", async () => {
    id = await stack.submit("Build a todo list app");
    published = await stack.submit("Build a blog", { publish: true, repoName: "my-blog" });
    expect((await stack.request(`/api/sessions/${id}/cancel`, { method: "POST" })).status).toBe(200);
    expect((await stack.request(`/api/sessions/${id}/cancel`, { method: "POST" })).status).toBe(409);
    const retry = await stack.request(`/api/sessions/${id}/retry`, {
      method: "POST",
      body: JSON.stringify({ budgetUsd: 2 }),
    });
    expect(retry.status).toBe(202);
    expect((await stack.request(`/api/sessions/${id}/cancel`, { method: "POST" })).status).toBe(200);
    expect((await stack.request(`/api/sessions/${id}`, { method: "DELETE" })).status).toBe(204);
    // Without a token: refused before the handler, recorded all the same.
    const anonymous = await stack.app.request("/api/sessions", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ request: "Build a chat app" }),
    });
    expect(anonymous.status).toBe(401);
    expect((await form({ token: WRONG_TOKEN, next: "/" })).status).toBe(401);
    const signIn = await form({ token: API_TOKEN, next: "/" });
    expect(signIn.status).toBe(303);
    const cookie = (signIn.headers.get("set-cookie") ?? "").split(";")[0] as string;
    const signOut = await stack.app.request("/logout", { method: "POST", headers: { cookie } });
    expect(signOut.status).toBe(303);
    // A change made on Bull Board (here: pausing the gemini queue, which no worker consumes).
    const pause = await stack.request("/admin/queues/api/queues/gemini/pause", { method: "PUT" });
    expect(pause.status).toBe(200);
    // Reads and checks change nothing: not recorded.
    await stack.request("/api/sessions");
    await stack.request("/api/workflows/validate", { method: "POST", body: JSON.stringify({ yaml: "x" }) });

    const { items } = await auditPage("?limit=100");
    const rows = items.map((item) => ({
      action: item.action,
      outcome: item.outcome,
      method: item.method,
      route: item.route,
      sessionId: item.sessionId,
      status: item.detail?.status,
      code: item.detail?.code ?? null,
    }));
    expect(rows.reverse()).toEqual([
      row("session.submit", "succeeded", "POST", "/api/sessions", id, 202),
      row("session.publish", "succeeded", "POST", "/api/sessions", published, 202),
      row("session.cancel", "succeeded", "POST", "/api/sessions/:id/cancel", id, 200),
      row("session.cancel", "refused", "POST", "/api/sessions/:id/cancel", id, 409, "CONFLICT"),
      row("session.retry", "succeeded", "POST", "/api/sessions/:id/retry", id, 202),
      row("session.cancel", "succeeded", "POST", "/api/sessions/:id/cancel", id, 200),
      row("session.delete", "succeeded", "DELETE", "/api/sessions/:id", id, 204),
      row("session.submit", "denied", "POST", "/api/sessions", null, 401, "UNAUTHORIZED"),
      row("auth.sign_in", "denied", "POST", "/login", null, 401),
      row("auth.sign_in", "succeeded", "POST", "/login", null, 303),
      row("auth.sign_out", "succeeded", "POST", "/logout", null, 303),
      row("queues.admin", "succeeded", "PUT", "/admin/queues/api/queues/:queueName/pause", null, 200),
    ]);
    for (const item of items) {
      expect(item.id).toMatch(/^\d+$/);
      expect(Date.now() - Date.parse(item.at)).toBeLessThan(60_000);
      // In-process requests have no socket; over the network it is the peer (next test).
      expect(item.clientAddress).toBe("unknown");
    }
    const detail = (action: string) => items.find((item) => item.action === action)?.detail;
    expect(detail("session.publish")).toMatchObject({ publish: true, repoName: "my-blog" });
    expect(detail("session.retry")).toMatchObject({ budgetUsd: 2 });
    expect(detail("queues.admin")).toMatchObject({
      operation: "PUT /admin/queues/api/queues/:queueName/pause",
    });
    expect(items.filter((item) => item.action === "session.submit")[1]?.detail).toMatchObject({
      workflow: "software-project",
      publish: false,
    });
  });

  it("records the client's address when the request comes over the network", async () => {
    const server = serve({ fetch: stack.app.fetch, port: 0, hostname: "127.0.0.1" });
    await new Promise((resolve) => server.once("listening", resolve));
    const { port } = server.address() as { port: number };
    try {
      const response = await fetch(`http://127.0.0.1:${port}/login`, {
        method: "POST",
        body: new URLSearchParams({ token: WRONG_TOKEN }),
        redirect: "manual",
      });
      expect(response.status).toBe(401);
      // The client reads the trail through the same route.
      const page = await new ApiClient({ url: `http://127.0.0.1:${port}`, token: API_TOKEN }).audit({
        limit: 1,
      });
      expect(page.items[0]).toMatchObject({ action: "auth.sign_in", outcome: "denied" });
      expect(page.nextCursor).toMatch(/^\d+$/);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    const [latest] = (await auditPage("?limit=1")).items;
    expect(latest).toMatchObject({ action: "auth.sign_in", outcome: "denied" });
    expect(latest?.clientAddress).toMatch(/^(::ffff:)?127\.0\.0\.1$/);
  });

  it("never holds a token, right or wrong", async () => {
    const rows = await stack.db.prisma.auditEntry.findMany();
    const text = JSON.stringify(rows, (_, value) => (typeof value === "bigint" ? String(value) : value));
    expect(text).not.toContain(API_TOKEN);
    expect(text).not.toContain(WRONG_TOKEN);
  });

  it("pages newest first with a cursor, and refuses a bad one naming it", async () => {
    const all = (await auditPage("?limit=200")).items.map((item) => item.id);
    expect(all.map(Number)).toEqual([...all.map(Number)].sort((a, b) => b - a));
    const walked: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { items: AuditEntry[]; nextCursor: string | null } = await auditPage(
        `?limit=5${cursor ? `&cursor=${cursor}` : ""}`,
      );
      expect(page.items.length).toBeLessThanOrEqual(5);
      walked.push(...page.items.map((item) => item.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(walked).toEqual(all);
    for (const query of ["?cursor=abc", "?limit=0", "?limit=1000", "?since=yesterday"]) {
      const response = await stack.request(`/api/audit${query}`);
      expect(response.status, query).toBe(400);
      const body = (await response.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe("INVALID_REQUEST");
      expect(body.error.message).toMatch(/cursor|limit|since/);
    }
    expect((await stack.app.request("/api/audit")).status).toBe(401);
  });

  it("deletes rows older than the retention", async () => {
    await until(
      async () => (await stack.db.prisma.auditEntry.count({ where: { id: oldRow } })) === 0,
      "the old row to be pruned",
    );
    expect(await stack.db.prisma.auditEntry.count()).toBeGreaterThan(5);
  });

  it("does not fail an action whose row cannot be written, and says so in the log", async () => {
    await stack.db.prisma.$executeRawUnsafe("ALTER TABLE audit_log RENAME TO audit_log_away");
    try {
      const response = await stack.request("/api/sessions", {
        method: "POST",
        body: JSON.stringify({ request: "Build a wiki" }),
      });
      expect(response.status).toBe(202);
      await until(async () => warnings.includes("could not write an audit row"), "the warning");
    } finally {
      await stack.db.prisma.$executeRawUnsafe("ALTER TABLE audit_log_away RENAME TO audit_log");
    }
  });
});

function row(
  action: string,
  outcome: string,
  method: string,
  route: string,
  sessionId: string | null,
  status: number,
  code: string | null = null,
) {
  return { action, outcome, method, route, sessionId, status, code };
}
