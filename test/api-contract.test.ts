// The API and its OpenAPI document: every route the app serves is in the document (and nothing
// else), real answers of a real session validate against it (ajv), the document is the one the
// contract generates from its zod schemas, and bad input anywhere is a 4xx naming the field.
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { readEventStream } from "@foundry/client";
import { createOpenApiDocument } from "@foundry/contract";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type OpenApiChecker as Checker, OpenApiChecker, type OpenApiDoc } from "./support/openapi.ts";
import { API_TOKEN, type Stack, startStack } from "./support/stack.ts";
import { until } from "./support/wait.ts";

let stack: Stack;
let doc: OpenApiDoc;
let checker: Checker;
/** A session that ran to success. */
let done: string;

beforeAll(async () => {
  stack = await startStack();
  const response = await stack.request("/api/openapi.json");
  doc = (await response.json()) as OpenApiDoc;
  checker = new OpenApiChecker(doc);
  done = await stack.submit("Build a todo list app");
  expect((await stack.waitForSession(done)).status).toBe("succeeded");
});
afterAll(() => stack?.close());

/** An authenticated request whose answer must fit the document. */
async function call(method: string, path: string, init: RequestInit = {}) {
  const response = await stack.request(path, { ...init, method });
  return checker.check(method, path, response);
}

const honoToOpenApi = (path: string) =>
  path.replace(/:(\w+)(\{[^}]*\})?/g, (_, name: string) => `{${name}}`).replace(/\/$/, "") || "/";

describe("the OpenAPI document", () => {
  it("is OpenAPI 3.1, generated from the contract, with named component schemas", () => {
    expect(doc.openapi).toBe("3.1.0");
    expect(doc).toEqual(JSON.parse(JSON.stringify(createOpenApiDocument())));
    for (const name of ["SessionView", "SessionSummary", "SessionEvent", "StreamEnd", "Error", "Workflow"]) {
      expect(doc.components.schemas, name).toHaveProperty(name);
    }
  });

  it("lists every route the API serves, and only those", () => {
    const served = new Set(
      stack.app.routes
        .filter((route) => route.method !== "ALL")
        // The pages (login, Bull Board, the dashboard and its files) are not the REST API.
        .filter((route) => !/^\/(login|logout|admin|dashboard)(\/|$)/.test(route.path) && route.path !== "/")
        .map((route) => `${route.method} ${honoToOpenApi(route.path)}`),
    );
    const documented = new Set(
      Object.entries(doc.paths).flatMap(([path, operations]) =>
        Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`),
      ),
    );
    expect([...served].sort()).toEqual([...documented].sort());
    expect(documented.size).toBe(24);
  });
});

describe("real answers validate against the document", () => {
  it("sessions: create, list, get (full, summary, 304), events, files, a file, the archive", async () => {
    const created = await call("POST", "/api/sessions", {
      body: JSON.stringify({ request: "Build a chat app" }),
    });
    expect(created.status).toBe(202);
    expect((await call("GET", "/api/sessions?limit=1")).status).toBe(200);
    const full = await call("GET", `/api/sessions/${done}`);
    expect(full.status).toBe(200);
    const etag = full.headers.get("etag") as string;
    expect((await call("GET", `/api/sessions/${done}`, { headers: { "if-none-match": etag } })).status).toBe(
      304,
    );
    expect((await call("GET", `/api/sessions/${done}?view=summary`)).status).toBe(200);
    expect((await call("GET", `/api/sessions/${done}/events?limit=5`)).status).toBe(200);
    const files = (await call("GET", `/api/sessions/${done}/files`)).body as { files: { path: string }[] };
    expect(files.files.length).toBeGreaterThan(0);
    const file = await call("GET", `/api/sessions/${done}/files/${files.files[0]?.path}`);
    expect(file.status).toBe(200);
    expect((await call("GET", `/api/sessions/${done}/archive`)).status).toBe(200);
    await stack.request(`/api/sessions/${(created.body as { id: string }).id}/cancel`, { method: "POST" });
  });

  it("actions: cancel, retry, delete (and their 409s)", async () => {
    expect((await call("POST", `/api/sessions/${done}/cancel`)).status).toBe(409);
    expect((await call("POST", `/api/sessions/${done}/retry`)).status).toBe(409);
    const id = await stack.submit("Build a blog");
    expect((await call("DELETE", `/api/sessions/${id}`)).status).toBe(409);
    expect((await call("POST", `/api/sessions/${id}/cancel`)).status).toBe(200);
    expect((await call("POST", `/api/sessions/${id}/retry`)).status).toBe(202);
    expect((await call("POST", `/api/sessions/${id}/cancel`)).status).toBe(200);
    // A job of the cancelled run may still be stopping: the API says so (409) until it has.
    let deleted = 0;
    await until(async () => {
      deleted = (await call("DELETE", `/api/sessions/${id}`)).status;
      return deleted === 204;
    }, "the deletion");
    expect((await call("GET", `/api/sessions/${id}`)).status).toBe(404);
  });

  it("streams: each message's data is a SessionEvent, the last a StreamEnd", async () => {
    const response = await stack.request(`/api/sessions/${done}/events/stream`);
    const checked = await checker.check("GET", `/api/sessions/${done}/events/stream`, response.clone());
    expect(checked.status).toBe(200);
    let events = 0;
    let ends = 0;
    for await (const message of readEventStream(response.body as ReadableStream<Uint8Array>)) {
      const component = message.event === "end" ? "StreamEnd" : "SessionEvent";
      expect(checker.validateComponent(component, JSON.parse(message.data))).toBeNull();
      if (message.event === "end") ends++;
      else events++;
    }
    expect(events).toBeGreaterThan(10);
    expect(ends).toBe(1);
    // The checker is strict: a field the document does not name, or a wrong type, is refused.
    const sample = {
      id: "1",
      sessionId: done,
      type: "x",
      phase: null,
      message: "m",
      data: null,
      at: new Date().toISOString(),
    };
    expect(checker.validateComponent("SessionEvent", sample)).toBeNull();
    expect(checker.validateComponent("SessionEvent", { ...sample, extra: 1 })).not.toBeNull();
    expect(checker.validateComponent("SessionEvent", { ...sample, id: 1 })).not.toBeNull();

    const abort = new AbortController();
    const all = await stack.app.request("/api/events/stream?lastEventId=0", {
      headers: { authorization: `Bearer ${API_TOKEN}` },
      signal: abort.signal,
    });
    expect(all.status).toBe(200);
    expect(all.headers.get("content-type")).toMatch(/^text\/event-stream/);
    for await (const message of readEventStream(all.body as ReadableStream<Uint8Array>)) {
      expect(checker.validateComponent("SessionEvent", JSON.parse(message.data))).toBeNull();
      break;
    }
    abort.abort();
  });

  it("info, stats, and the list filtered by workflow", async () => {
    const info = await call("GET", "/api/info");
    expect(info.body).toEqual({ canPublish: false, defaultWorkflow: "software-project" });
    const stats = await call("GET", "/api/stats?minutes=5");
    expect(stats.status).toBe(200);
    const body = stats.body as {
      minutes: number;
      providers: { provider: string; perMinute: { calls: number; requests: number }[] }[];
      queues: { name: string }[];
      queueError: string | null;
    };
    expect(body.minutes).toBe(5);
    expect(body.queueError).toBeNull();
    expect(body.queues.map((queue) => queue.name).sort()).toEqual([
      "anthropic",
      "gemini",
      "openai",
      "orchestrator",
    ]);
    // The session that ran called each provider; the journal's counts say so.
    const calls = await stack.db.prisma.modelCall.groupBy({
      by: ["provider"],
      where: { cached: false, startedAt: { not: null } },
      _count: true,
    });
    for (const { provider, _count } of calls) {
      const counted = body.providers.find((item) => item.provider === provider)?.perMinute ?? [];
      expect(
        counted.reduce((sum, minute) => sum + minute.calls, 0),
        provider,
      ).toBe(_count);
    }
    expect((await call("GET", "/api/stats")).status).toBe(200);
    const mine = (await call("GET", "/api/sessions?workflow=software-project")).body as {
      sessions: { workflow: string }[];
    };
    expect(mine.sessions.length).toBeGreaterThan(0);
    expect(mine.sessions.every((session) => session.workflow === "software-project")).toBe(true);
    const none = (await call("GET", "/api/sessions?workflow=other")).body as { sessions: unknown[] };
    expect(none.sessions).toEqual([]);
  });

  it("workflows, the document itself, the reference page, health", async () => {
    expect((await call("GET", "/api/workflows")).status).toBe(200);
    expect((await call("GET", "/api/workflows/software-project")).status).toBe(200);
    const yaml =
      "name: tiny\nroles:\n  pm:\n    title: PM\n    system: hi\n    providers: [{ provider: openai, model: m }]\nphases:\n  - id: a\n    title: A\n    tasks: [{ id: t, role: pm, schema: requirements, prompt: '{{ request }}' }]\n";
    expect((await call("POST", "/api/workflows/validate", { body: JSON.stringify({ yaml }) })).status).toBe(
      200,
    );
    const invalid = await call("POST", "/api/workflows/validate", {
      body: JSON.stringify({ yaml: yaml.replace("openai", "openia") }),
    });
    expect(invalid.status).toBe(422);
    expect((await call("GET", "/api/openapi.json")).status).toBe(200);
    expect((await call("GET", "/api/docs")).status).toBe(200);
    expect((await call("GET", "/api/docs/assets/init.js")).status).toBe(200);
    expect((await checker.check("GET", "/healthz", await stack.app.request("/healthz"))).status).toBe(200);
    expect((await checker.check("GET", "/readyz", await stack.app.request("/readyz"))).status).toBe(200);
  });

  it("the audit trail and the metrics", async () => {
    const audit = await call("GET", "/api/audit?limit=2");
    expect(audit.status).toBe(200);
    expect((audit.body as { items: unknown[] }).items).toHaveLength(2);
    const next = (audit.body as { nextCursor: string }).nextCursor;
    expect((await call("GET", `/api/audit?cursor=${next}`)).status).toBe(200);
    const metrics = await call("GET", "/metrics");
    expect(metrics.status).toBe(200);
    expect(metrics.body).toContain("foundry_http_requests_total");
    expect((await checker.check("GET", "/metrics", await stack.app.request("/metrics"))).status).toBe(401);
  });

  it("errors: 401, 404, 400, 413, 415", async () => {
    const anonymous = await stack.app.request("/api/sessions");
    expect((await checker.check("GET", "/api/sessions", anonymous)).status).toBe(401);
    expect((await call("GET", "/api/sessions/00000000-0000-4000-8000-000000000000")).status).toBe(404);
    expect((await call("GET", "/api/sessions?limit=many")).status).toBe(400);
    const huge = JSON.stringify({ request: "x".repeat(2 * 1024 * 1024) });
    expect((await call("POST", "/api/sessions", { body: huge })).status).toBe(413);
    const plain = await call("POST", "/api/sessions", {
      body: JSON.stringify({ request: "x" }),
      headers: { "content-type": "text/plain" },
    });
    expect(plain.status).toBe(415);
  });
});

describe("bad input, route by route: a 4xx naming the field, never a 500", () => {
  const unknown = "00000000-0000-4000-8000-000000000000";
  const cases: Array<[method: string, path: string, init: RequestInit, status: number, names: string]> = [
    ["GET", "/api/sessions?limit=abc", {}, 400, "limit"],
    ["GET", "/api/sessions?limit=1000", {}, 400, "limit"],
    ["GET", "/api/sessions?status=dancing", {}, 400, "status"],
    ["GET", "/api/sessions?cursor=%21%21", {}, 400, "cursor"],
    ["GET", "/api/sessions?cursor=bm9wZQ", {}, 400, "cursor"],
    ["GET", "/api/sessions?colour=blue", {}, 400, "colour"],
    ["GET", "/api/sessions?workflow=Not%20One", {}, 400, "workflow"],
    ["GET", "/api/stats?minutes=0", {}, 400, "minutes"],
    ["GET", "/api/stats?minutes=many", {}, 400, "minutes"],
    ["GET", "/api/stats?hours=1", {}, 400, "hours"],
    ["POST", "/api/sessions", { body: "{nope" }, 400, "JSON"],
    ["POST", "/api/sessions", { body: "[]" }, 400, "expected object"],
    ["POST", "/api/sessions", { body: JSON.stringify({}) }, 400, "request"],
    ["POST", "/api/sessions", { body: JSON.stringify({ request: 7 }) }, 400, "request"],
    ["POST", "/api/sessions", { body: JSON.stringify({ request: "x", publish: "yes" }) }, 400, "publish"],
    ["POST", "/api/sessions", { body: JSON.stringify({ request: "x", repoName: ".git" }) }, 400, "repoName"],
    [
      "POST",
      "/api/sessions",
      { body: JSON.stringify({ request: "x", workflow: "No Such" }) },
      400,
      "workflow",
    ],
    ["POST", "/api/sessions", { body: JSON.stringify({ request: "x", budget: 5 }) }, 400, "budget"],
    ["POST", "/api/sessions", { body: JSON.stringify({ request: "x", budgetUsd: -1 }) }, 400, "budgetUsd"],
    ["POST", "/api/sessions", { body: JSON.stringify({ request: "x", cache: "on" }) }, 400, "cache"],
    ["GET", "/api/sessions/not-a-uuid", {}, 404, "not-a-uuid"],
    ["GET", `/api/sessions/${unknown}`, {}, 404, unknown],
    ["GET", `/api/sessions/${unknown}?view=tiny`, {}, 400, "view"],
    ["DELETE", "/api/sessions/not-a-uuid", {}, 404, "not-a-uuid"],
    ["DELETE", `/api/sessions/${unknown}`, {}, 404, unknown],
    ["POST", "/api/sessions/not-a-uuid/cancel", {}, 404, "not-a-uuid"],
    ["POST", `/api/sessions/${unknown}/retry`, {}, 404, unknown],
    ["POST", `/api/sessions/${unknown}/retry`, { body: JSON.stringify({ budgetUsd: 0 }) }, 400, "budgetUsd"],
    ["POST", `/api/sessions/${unknown}/retry`, { body: JSON.stringify({ run: 2 }) }, 400, "run"],
    ["POST", `/api/sessions/${unknown}/retry`, { body: "{" }, 400, "JSON"],
    ["GET", "/api/sessions/not-a-uuid/events", {}, 404, "not-a-uuid"],
    ["GET", `/api/sessions/${unknown}/events?after=x`, {}, 400, "after"],
    ["GET", `/api/sessions/${unknown}/events?after=99999999999999999999`, {}, 400, "after"],
    ["GET", `/api/sessions/${unknown}/events?limit=0`, {}, 400, "limit"],
    ["GET", `/api/sessions/${unknown}/events/stream`, {}, 404, unknown],
    ["GET", "/api/sessions/not-a-uuid/events/stream", {}, 404, "not-a-uuid"],
    ["GET", `/api/sessions/${unknown}/events/stream?lastEventId=x`, {}, 400, "lastEventId"],
    ["GET", "/api/events/stream?lastEventId=1.5", {}, 400, "lastEventId"],
    ["GET", "/api/events/stream", { headers: { "last-event-id": "abc" } }, 400, "Last-Event-ID"],
    ["GET", "/api/events/stream?from=1", {}, 400, "from"],
    ["GET", "/api/sessions/not-a-uuid/files", {}, 404, "not-a-uuid"],
    ["GET", `/api/sessions/${unknown}/files`, {}, 404, unknown],
    ["GET", `/api/sessions/${unknown}/files/src/a.js`, {}, 404, unknown],
    ["GET", "/api/sessions/not-a-uuid/archive", {}, 404, "not-a-uuid"],
    ["GET", `/api/sessions/${unknown}/archive`, {}, 404, unknown],
    ["GET", "/api/workflows/No%20Such", {}, 404, "No Such"],
    ["GET", "/api/workflows/nope", {}, 404, "nope"],
    ["POST", "/api/workflows/validate", { body: JSON.stringify({}) }, 400, "yaml"],
    ["POST", "/api/workflows/validate", { body: JSON.stringify({ yaml: 5 }) }, 400, "yaml"],
    ["POST", "/api/workflows/validate", { body: JSON.stringify({ yaml: "a: 1", file: "" }) }, 400, "file"],
    ["POST", "/api/workflows/validate", { body: JSON.stringify({ yaml: "a: 1", extra: 1 }) }, 400, "extra"],
    ["POST", "/api/workflows/validate", { body: "yaml: true" }, 400, "JSON"],
    ["GET", "/api/docs/assets/..%2Fpackage.json", {}, 404, "package.json"],
    ["GET", "/api/docs/assets/secrets.txt", {}, 404, "secrets.txt"],
    ["GET", "/api/audit?cursor=abc", {}, 400, "cursor"],
    ["GET", "/api/audit?cursor=9999999999999999999", {}, 400, "cursor"],
    ["GET", "/api/audit?limit=0", {}, 400, "limit"],
    ["GET", "/api/audit?action=x", {}, 400, "action"],
  ];

  it.each(cases)("%s %s %j → %i naming %s", async (method, path, init, status, names) => {
    const answer = await call(method, path, init);
    expect(answer.status).toBe(status);
    expect((answer.body as { error: { message: string } }).error.message).toContain(names);
  });

  it("a missing file of a real session names its path", async () => {
    const answer = await call("GET", `/api/sessions/${done}/files/src/nowhere.js`);
    expect(answer.status).toBe(404);
    expect((answer.body as { error: { message: string } }).error.message).toContain('"src/nowhere.js"');
  });
});

describe("deleting the session that ran", () => {
  it("removes its git workspace and its rows (204), then knows it no more (404)", async () => {
    const view = (await (await stack.request(`/api/sessions/${done}`)).json()) as { workspace: string };
    expect(await stat(join(view.workspace, ".git")).then((s) => s.isDirectory())).toBe(true);
    expect((await call("DELETE", `/api/sessions/${done}`)).status).toBe(204);
    expect(await stat(view.workspace).catch(() => null)).toBeNull();
    expect(await stack.db.prisma.sessionEvent.count({ where: { sessionId: done } })).toBe(0);
    expect((await call("GET", `/api/sessions/${done}/files`)).status).toBe(404);
  });
});
