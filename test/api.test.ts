import { spawnSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { API_TOKEN, type Stack, startStack } from "./support/stack.ts";

// HTTP routes in-process with app.request(); no workers, so submitted sessions stay queued.
describe("REST API", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ workers: false });
  });
  afterAll(() => stack?.close());

  const post = (body: string, headers: Record<string, string> = {}) =>
    stack.request("/api/sessions", { method: "POST", body, headers });

  it("refuses requests without a valid token", async () => {
    const missing = await stack.app.request("/api/sessions");
    expect(missing.status).toBe(401);
    expect(await missing.json()).toEqual({
      error: { code: "UNAUTHORIZED", message: "missing API token: send Authorization: Bearer <API_TOKEN>" },
    });
    const wrong = await stack.app.request("/api/sessions", { headers: { authorization: "Bearer nope" } });
    expect(wrong.status).toBe(401);
    expect(((await wrong.json()) as { error: { message: string } }).error.message).toBe(
      "the API token is not valid",
    );
    expect(await stack.db.prisma.session.count()).toBe(0);
  });

  it("explains what is wrong with a bad body", async () => {
    const notJson = await post("{nope");
    expect(notJson.status).toBe(400);
    expect(((await notJson.json()) as { error: { code: string } }).error.code).toBe("INVALID_JSON");

    const missing = await post(JSON.stringify({ workflow: "software-project" }));
    expect(missing.status).toBe(400);
    const body = (await missing.json()) as {
      error: { code: string; message: string; details: { issues: { path: string }[] } };
    };
    expect(body.error.code).toBe("INVALID_REQUEST");
    expect(body.error.message).toMatch(/request/);
    expect(body.error.details.issues.map((issue) => issue.path)).toEqual(["request"]);

    const wrongType = await post(JSON.stringify({ request: 42 }));
    expect(wrongType.status).toBe(400);
    const unknownField = await post(JSON.stringify({ request: "x", budget: 5 }));
    expect(unknownField.status).toBe(400);
    expect(((await unknownField.json()) as { error: { message: string } }).error.message).toMatch(/budget/);
    const empty = await post(JSON.stringify({ request: "   " }));
    expect(empty.status).toBe(400);
    const control = await post(JSON.stringify({ request: "build \u0000 this" }));
    expect(control.status).toBe(400);
    expect(((await control.json()) as { error: { message: string } }).error.message).toContain(
      "must be text without control characters",
    );
    const huge = await post(JSON.stringify({ request: "x".repeat(2 * 1024 * 1024) }));
    expect(huge.status).toBe(413);
    expect(await stack.db.prisma.session.count()).toBe(0);
  });

  it("requires content-type: application/json on request bodies (415 otherwise)", async () => {
    const body = JSON.stringify({ request: "Build a todo list app" });
    for (const type of [
      "text/plain",
      "application/x-www-form-urlencoded",
      "multipart/form-data; boundary=x",
    ]) {
      const response = await post(body, { "content-type": type });
      expect(response.status, type).toBe(415);
      expect(await response.json()).toEqual({
        error: {
          code: "UNSUPPORTED_MEDIA_TYPE",
          message: `the request body must be JSON sent with content-type: application/json (got ${JSON.stringify(type)})`,
        },
      });
    }
    // A body without any content type (bytes, so fetch adds none).
    const untyped = await stack.app.request("/api/sessions", {
      method: "POST",
      headers: { authorization: `Bearer ${API_TOKEN}` },
      body: new TextEncoder().encode(body),
    });
    expect(untyped.status).toBe(415);
    expect(((await untyped.json()) as { error: { message: string } }).error.message).toContain(
      "(got no content-type)",
    );
    expect(await stack.db.prisma.session.count()).toBe(0);
    // Parameters and case do not matter; an empty body needs no type (and is then not JSON: 400).
    expect((await post(body, { "content-type": "Application/JSON; charset=utf-8" })).status).toBe(202);
    const empty = await stack.app.request("/api/sessions", {
      method: "POST",
      headers: { authorization: `Bearer ${API_TOKEN}` },
    });
    expect(empty.status).toBe(400);
    await stack.db.prisma.session.deleteMany();
  });

  it("refuses cross-site writes that ride on the login cookie, but not bearer-token scripts", async () => {
    const signIn = await stack.app.request("/login", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ token: API_TOKEN }).toString(),
    });
    const cookie = (signIn.headers.get("set-cookie") ?? "").split(";")[0] as string;
    expect(cookie).toMatch(/^foundry_login=/);
    const body = JSON.stringify({ request: "Build a todo list app" });
    const withCookie = (headers: Record<string, string>) =>
      stack.app.request("/api/sessions", {
        method: "POST",
        headers: { cookie, "content-type": "application/json", ...headers },
        body,
      });

    const crossSite: Record<string, string>[] = [
      { origin: "https://evil.example" },
      { origin: "null" },
      { "sec-fetch-site": "cross-site" },
      { "sec-fetch-site": "same-site" },
    ];
    for (const headers of crossSite) {
      const refused = await withCookie(headers);
      expect(refused.status, JSON.stringify(headers)).toBe(403);
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("CROSS_SITE_REQUEST");
    }
    expect(await stack.db.prisma.session.count()).toBe(0);

    // The same cookie from this site's own pages works.
    expect((await withCookie({ origin: "http://localhost", "sec-fetch-site": "same-origin" })).status).toBe(
      202,
    );
    // Reads are not writes.
    expect(
      (await stack.app.request("/api/sessions", { headers: { cookie, origin: "https://evil.example" } }))
        .status,
    ).toBe(200);
    // Scripts: a bearer token, no Origin; and a bearer header is never the ambient cookie.
    expect((await post(body)).status).toBe(202);
    expect((await post(body, { origin: "https://evil.example" })).status).toBe(202);
    expect(await stack.db.prisma.session.count()).toBe(3);
    await stack.db.prisma.session.deleteMany();
  });

  it("rejects an unknown workflow and lists the available ones", async () => {
    const response = await post(JSON.stringify({ request: "Build a todo list app", workflow: "nope" }));
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      error: {
        code: "WORKFLOW_NOT_FOUND",
        message: 'unknown workflow "nope" (available: software-project)',
        details: { available: ["software-project"] },
      },
    });
  });

  it("refuses to publish when the server has no GitHub token", async () => {
    const response = await post(JSON.stringify({ request: "Build a todo list app", publish: true }));
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { message: string } }).error.message).toMatch(/GITHUB_TOKEN/);
  });

  it("accepts a session, stores it queued with its workflow snapshot, and lists newest first", async () => {
    const ids: string[] = [];
    for (const request of ["first", "second", "third"]) {
      const response = await post(JSON.stringify({ request }));
      expect(response.status).toBe(202);
      const body = (await response.json()) as { id: string; status: string; links: { self: string } };
      expect(body.status).toBe("queued");
      expect(response.headers.get("location")).toBe(`/api/sessions/${body.id}`);
      ids.push(body.id);
    }
    const stored = await stack.db.prisma.session.findUniqueOrThrow({
      where: { id: ids[0] as string },
      include: { phases: true },
    });
    expect(stored.status).toBe("queued");
    expect((stored.workflow as { name: string }).name).toBe("software-project");
    expect(stored.phases).toHaveLength(9);
    // The flow is in Redis: the first phase waits in the orchestrator queue.
    expect(await stack.queues.get("orchestrator").getJobState(`${ids[0]}.0.requirements`)).toBe("waiting");

    const page1 = (await (await stack.request("/api/sessions?limit=2")).json()) as {
      sessions: { id: string; request: string }[];
      nextCursor: string;
    };
    expect(page1.sessions.map((session) => session.request)).toEqual(["third", "second"]);
    const page2 = (await (
      await stack.request(`/api/sessions?limit=2&cursor=${page1.nextCursor}`)
    ).json()) as {
      sessions: { request: string }[];
      nextCursor: string | null;
    };
    expect(page2.sessions.map((session) => session.request)).toEqual(["first"]);
    expect(page2.nextCursor).toBeNull();

    const view = (await (await stack.request(`/api/sessions/${ids[0]}`)).json()) as {
      status: string;
      phases: unknown[];
    };
    expect(view.status).toBe("queued");
    expect(view.phases).toHaveLength(9);
    const events = (await (await stack.request(`/api/sessions/${ids[0]}/events`)).json()) as {
      events: { type: string }[];
    };
    expect(events.events.map((event) => event.type)).toEqual(["session.submitted"]);
  });

  it("answers 404 for unknown sessions and 400 for bad query parameters", async () => {
    expect((await stack.request("/api/sessions/00000000-0000-4000-8000-000000000000")).status).toBe(404);
    expect((await stack.request("/api/sessions/not-a-uuid")).status).toBe(404);
    expect((await stack.request("/api/sessions?limit=0")).status).toBe(400);
    expect((await stack.request("/api/sessions?cursor=garbage")).status).toBe(400);
    expect((await stack.request("/api/sessions?status=dancing")).status).toBe(400);
    const id = "00000000-0000-4000-8000-000000000000";
    expect((await stack.request(`/api/sessions/${id}/events?after=9999999999999999999`)).status).toBe(400);
    expect((await stack.request("/api/nothing")).status).toBe(404);
  });

  it("reports health and readiness without a token, and nothing more", async () => {
    expect((await stack.app.request("/healthz")).status).toBe(200);
    const ready = await stack.app.request("/readyz");
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ ready: true });
  });
});

describe("the API process", () => {
  const main = fileURLToPath(new URL("../apps/api/src/main.ts", import.meta.url));
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "workflows-"));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const start = (env: Record<string, string>) =>
    spawnSync(process.execPath, [main], {
      env: { PATH: process.env.PATH ?? "", ...env },
      encoding: "utf8",
      timeout: 20_000,
    });

  it("refuses to start with a missing or short token, naming the variable", () => {
    const result = start({
      DATABASE_URL: "postgresql://localhost/x",
      REDIS_URL: "redis://127.0.0.1:6379",
      API_TOKEN: "short",
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("API_TOKEN: API_TOKEN must be at least 16 characters");
  });

  it.each([
    [{ QUEUE_BACKEND: "kafka" }, 'QUEUE_BACKEND: expected "redis" or "postgres", got "kafka"'],
    [{ QUEUE_BACKEND: "redis" }, "QUEUE_BACKEND=redis needs REDIS_URL"],
  ])("refuses to start with queue settings %j, naming the variable", (queueEnv, message) => {
    const result = start({ DATABASE_URL: "postgresql://localhost/x", API_TOKEN, ...queueEnv });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(message);
  });

  it("refuses to start with an invalid workflow file, naming the file, the path and the line", async () => {
    await writeFile(
      join(dir, "broken.yaml"),
      "name: broken\nroles:\n  pm:\n    title: PM\n    system: hi\n    providers: [{ provider: openia, model: x }]\nphases: []\n",
    );
    const result = start({
      DATABASE_URL: "postgresql://localhost/x",
      REDIS_URL: "redis://127.0.0.1:6379",
      API_TOKEN,
      WORKFLOWS_DIR: dir,
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`${join(dir, "broken.yaml")}: invalid workflow`);
    expect(result.stderr).toContain(
      'broken.yaml:6:29 roles.pm.providers[0].provider: unknown provider "openia"',
    );
    expect(result.stderr).toContain("broken.yaml:7:9 phases: Too small: expected array to have >=1 items");
  });
});
