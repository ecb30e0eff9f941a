// Routes of the REST API in-process (app.request()), resource by resource: deleting a session
// (jobs, rows, workspace), generated files served safely, workflow detail and validation, ETags
// for pollers, and the reference page behind the login. No workers: sessions stay queued.
import { createHash } from "node:crypto";
import { mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { sessionWorkspace } from "@foundry/engine";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { API_TOKEN, type Stack, startStack, WORKFLOWS_DIR } from "./support/stack.ts";

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ workers: false });
});
afterAll(() => stack?.close());

const json = async <T>(response: Response) => (await response.json()) as T;
type ErrorBody = { error: { code: string; message: string; details?: unknown } };
const exists = (path: string) =>
  stat(path).then(
    () => true,
    () => false,
  );

describe("DELETE /api/sessions/:id", () => {
  it("refuses a queued session with 409 naming its status, and touches nothing", async () => {
    const id = await stack.submit("Build a todo list app");
    const refused = await stack.request(`/api/sessions/${id}`, { method: "DELETE" });
    expect(refused.status).toBe(409);
    expect(await json(refused)).toEqual({
      error: {
        code: "CONFLICT",
        message: `session ${id} is queued: it cannot be deleted (only a session that has ended can be; cancel it first)`,
        details: { status: "queued" },
      },
    });
    expect(await stack.db.prisma.session.count({ where: { id } })).toBe(1);
    expect(await stack.queues.get("orchestrator").getJobState(`${id}.0.requirements`)).toBe("waiting");
  });

  it("removes an ended session's jobs of every run, its rows and its workspace; others stay", async () => {
    const keep = await stack.submit("Keep me");
    const id = await stack.submit("Delete me");
    // Failed by hand (no worker runs here), so that its jobs are still queued: two runs of them.
    const fail = () => stack.db.prisma.session.update({ where: { id }, data: { status: "failed" } });
    await fail();
    expect((await stack.request(`/api/sessions/${id}/retry`, { method: "POST" })).status).toBe(202);
    await fail();
    const orchestrator = stack.queues.get("orchestrator");
    for (const run of [0, 1])
      expect(await orchestrator.getJobState(`${id}.${run}.requirements`)).toBe("waiting");
    const workspace = sessionWorkspace(stack.workspaceDir, id);
    await mkdir(join(workspace, "src"), { recursive: true });
    await writeFile(join(workspace, "src", "a.js"), "a");
    await stack.db.prisma.generatedFile.create({
      data: {
        sessionId: id,
        phase: "files",
        path: "a.js",
        content: "a",
        sizeBytes: 1,
        sha256: "x",
        author: "backend",
      },
    });

    const deleted = await stack.request(`/api/sessions/${id}`, { method: "DELETE" });
    expect(deleted.status).toBe(204);
    expect(await deleted.text()).toBe("");
    for (const table of ["session", "phaseRun", "sessionEvent", "generatedFile", "modelCall"] as const) {
      // biome-ignore lint/suspicious/noExplicitAny: one count per table
      const count = await (stack.db.prisma[table] as any).count({
        where: table === "session" ? { id } : { sessionId: id },
      });
      expect(count, table).toBe(0);
    }
    expect(await exists(workspace)).toBe(false);
    for (const run of [0, 1]) {
      for (const phase of ["requirements", "git"]) {
        expect(await orchestrator.getJobState(`${id}.${run}.${phase}`), `${run}.${phase}`).toBe("unknown");
      }
    }
    expect(await stack.db.prisma.session.count({ where: { id: keep } })).toBe(1);
    expect(await orchestrator.getJobState(`${keep}.0.requirements`)).toBe("waiting");
    expect((await stack.request(`/api/sessions/${id}`, { method: "DELETE" })).status).toBe(404);
  });
});

describe("generated files", () => {
  let id: string;
  const files = [
    { path: "index.html", content: '<!doctype html><script>alert("model output")</script>' },
    { path: "src/über file.js", content: "export const ü = 1;\n" },
  ];
  beforeAll(async () => {
    id = await stack.submit("Build a page");
    for (const file of files) {
      await stack.db.prisma.generatedFile.create({
        data: {
          sessionId: id,
          phase: "implementation",
          path: file.path,
          content: file.content,
          sizeBytes: Buffer.byteLength(file.content),
          sha256: createHash("sha256").update(file.content).digest("hex"),
          author: "frontend",
          purpose: "the page",
        },
      });
    }
  });

  it("lists them in path order with size, hash, author, phase and purpose", async () => {
    const response = await stack.request(`/api/sessions/${id}/files`);
    expect(response.status).toBe(200);
    const body = await json<{ files: { path: string; sizeBytes: number; sha256: string }[] }>(response);
    expect(body.files.map((file) => file.path)).toEqual(["index.html", "src/über file.js"]);
    expect(body.files[0]).toEqual({
      path: "index.html",
      sizeBytes: Buffer.byteLength(files[0]?.content as string),
      sha256: createHash("sha256")
        .update(files[0]?.content as string)
        .digest("hex"),
      author: "frontend",
      phase: "implementation",
      purpose: "the page",
    });
  });

  it("serves content as plain text a browser will not render, sniff or run", async () => {
    const response = await stack.request(`/api/sessions/${id}/files/index.html`);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe(files[0]?.content);
    expect(response.headers.get("content-type")).toBe("text/plain; charset=utf-8");
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
    expect(response.headers.get("content-security-policy")).toBe("default-src 'none'; sandbox");
    expect(response.headers.get("content-disposition")).toBe(
      `inline; filename="index.html"; filename*=UTF-8''index.html`,
    );
    const nested = await stack.request(`/api/sessions/${id}/files/src/%C3%BCber%20file.js`);
    expect(await nested.text()).toBe(files[1]?.content);
    expect(nested.headers.get("content-disposition")).toBe(
      `inline; filename="_ber_file.js"; filename*=UTF-8''%C3%BCber%20file.js`,
    );
  });

  it("answers 404 naming the path of a file the session does not have", async () => {
    const response = await stack.request(`/api/sessions/${id}/files/src/missing.js`);
    expect(response.status).toBe(404);
    expect(await json(response)).toEqual({
      error: {
        code: "NOT_FOUND",
        message: `no file "src/missing.js" in session ${id}`,
        details: { path: "src/missing.js" },
      },
    });
  });
});

describe("workflows", () => {
  it("shows one workflow with its roles, their providers, and its phases", async () => {
    const response = await stack.request("/api/workflows/software-project");
    expect(response.status).toBe(200);
    const workflow = await json<{
      name: string;
      roles: { id: string; providers: { provider: string }[] }[];
      phases: { id: string; kind: string; tasks?: unknown[]; voters?: string[] }[];
    }>(response);
    expect(workflow.name).toBe("software-project");
    expect(workflow.roles.map((role) => [role.id, role.providers[0]?.provider])).toEqual([
      ["manager", "openai"],
      ["backend", "anthropic"],
      ["frontend", "gemini"],
    ]);
    expect(workflow.phases).toHaveLength(9);
    expect(workflow.phases.find((phase) => phase.kind === "vote")?.voters).toEqual([
      "manager",
      "backend",
      "frontend",
    ]);
  });

  const validate = (body: unknown) =>
    stack.request("/api/workflows/validate", { method: "POST", body: JSON.stringify(body) });

  it("validates a posted document: the repository's own workflow is valid", async () => {
    const yaml = await readFile(join(WORKFLOWS_DIR, "software-project.yaml"), "utf8");
    const response = await validate({ yaml });
    expect(response.status).toBe(200);
    const body = await json<{ valid: boolean; workflow: { name: string; phases: unknown[] } }>(response);
    expect(body.valid).toBe(true);
    expect(body.workflow.name).toBe("software-project");
    expect(body.workflow.phases).toHaveLength(9);
  });

  it("answers 422 with the loader's problems: file, line, column, path and what was expected", async () => {
    const yaml =
      "name: broken\nroles:\n  pm:\n    title: PM\n    system: hi\n    providers: [{ provider: openia, model: x }]\nphases: []\n";
    const response = await validate({ yaml, file: "broken.yaml" });
    expect(response.status).toBe(422);
    const body = await json<ErrorBody>(response);
    expect(body.error.code).toBe("WORKFLOW_INVALID");
    expect(body.error.details).toEqual({
      valid: false,
      file: "broken.yaml",
      issues: [
        {
          path: "roles.pm.providers[0].provider",
          message: 'unknown provider "openia" (expected one of: openai, anthropic, gemini)',
          line: 6,
          column: 29,
        },
        { path: "phases", message: "Too small: expected array to have >=1 items", line: 7, column: 9 },
      ],
    });
    const syntax = await json<ErrorBody>(await validate({ yaml: "name: [unclosed\n" }));
    expect(syntax.error.code).toBe("WORKFLOW_INVALID");
    expect(JSON.stringify(syntax.error.details)).toMatch(/YAML syntax/);
  });

  it("refuses an alias bomb (422) and an oversized document (413 naming yaml)", async () => {
    const bomb = ["a: &a [x, x, x, x, x, x, x, x, x, x]"];
    for (let level = 1; level <= 9; level++) {
      const previous = String.fromCharCode(96 + level);
      const next = String.fromCharCode(97 + level);
      bomb.push(`${next}: &${next} [${Array(10).fill(`*${previous}`).join(", ")}]`);
    }
    const exploded = await validate({ yaml: bomb.join("\n") });
    expect(exploded.status).toBe(422);
    expect((await json<ErrorBody>(exploded)).error.message).toMatch(/YAML aliases/);
    const large = await validate({ yaml: `name: big\ndescription: "${"x".repeat(300 * 1024)}"\n` });
    expect(large.status).toBe(413);
    expect((await json<ErrorBody>(large)).error.message).toMatch(
      /^yaml: the document is \d+ bytes; a workflow may be at most 262144$/,
    );
  });
});

describe("ETags for pollers", () => {
  it("answers 304 to a matching If-None-Match, and a new ETag once anything shown changes", async () => {
    const id = await stack.submit("Build a poll app");
    const first = await stack.request(`/api/sessions/${id}`);
    const etag = first.headers.get("etag") as string;
    expect(etag).toMatch(/^W\/"f-[0-9a-f]{32}"$/);
    expect(first.headers.get("cache-control")).toBe("private, no-cache");
    for (const header of [etag, etag.slice(2), `"other", ${etag}`, "*"]) {
      const again = await stack.request(`/api/sessions/${id}`, { headers: { "if-none-match": header } });
      expect(again.status, header).toBe(304);
      expect(again.headers.get("etag")).toBe(etag);
      expect(await again.text()).toBe("");
    }
    expect(
      (await stack.request(`/api/sessions/${id}`, { headers: { "if-none-match": '"other"' } })).status,
    ).toBe(200);

    // Every kind of change the view shows moves the ETag.
    const seen = new Set([etag]);
    const expectNewEtag = async (what: string) => {
      const response = await stack.request(`/api/sessions/${id}`, {
        headers: { "if-none-match": [...seen].join(", ") },
      });
      expect(response.status, what).toBe(200);
      seen.add(response.headers.get("etag") as string);
    };
    await stack.db.prisma.phaseRun.update({
      where: { sessionId_phase: { sessionId: id, phase: "requirements" } },
      data: { status: "running", startedAt: new Date() },
    });
    await expectNewEtag("a phase started");
    const call = await stack.db.prisma.modelCall.create({
      data: {
        idempotencyKey: `${id}.requirements.requirements`,
        sessionId: id,
        phase: "requirements",
        callKey: "requirements",
        role: "manager",
        provider: "openai",
        model: "gpt-6-sol",
        schemaName: "requirements",
        request: {},
        status: "running",
      },
    });
    await expectNewEtag("a call was journaled");
    await stack.db.prisma.modelCall.update({ where: { id: call.id }, data: { inputTokens: 10 } });
    await expectNewEtag("a call's tokens");
    await stack.db.prisma.$executeRaw`UPDATE sessions SET cost_usd = 0.5 WHERE id = ${id}`;
    await expectNewEtag("the session's cost, written without Prisma's updatedAt");
    await stack.request(`/api/sessions/${id}/cancel`, { method: "POST" });
    await expectNewEtag("cancelled");
  });

  it("does the same for ?view=summary, from the session's row alone", async () => {
    const id = await stack.submit("Build a summary app");
    const first = await stack.request(`/api/sessions/${id}?view=summary`);
    const summary = await json<Record<string, unknown>>(first);
    expect(Object.keys(summary).sort()).toEqual([
      "createdAt",
      "currentPhase",
      "error",
      "errorCode",
      "finishedAt",
      "id",
      "repository",
      "request",
      "retries",
      "status",
      "totals",
      "workflow",
    ]);
    const etag = first.headers.get("etag") as string;
    expect(etag).toMatch(/^W\/"s-/);
    expect(
      (await stack.request(`/api/sessions/${id}?view=summary`, { headers: { "if-none-match": etag } }))
        .status,
    ).toBe(304);
    await stack.request(`/api/sessions/${id}/cancel`, { method: "POST" });
    const after = await stack.request(`/api/sessions/${id}?view=summary`, {
      headers: { "if-none-match": etag },
    });
    expect(after.status).toBe(200);
    expect((await json<{ status: string }>(after)).status).toBe("cancelled");
  });
});

describe("the API reference page", () => {
  it("is behind the same sign-in as /api: a browser goes to the login page, a token or the cookie gets it", async () => {
    const anonymous = await stack.app.request("/api/docs", { headers: { accept: "text/html" } });
    expect(anonymous.status).toBe(302);
    expect(anonymous.headers.get("location")).toBe("/login?next=/api/docs");
    expect((await stack.app.request("/api/openapi.json")).status).toBe(401);
    expect((await stack.app.request("/api/docs/assets/swagger-ui-bundle.js")).status).toBe(401);

    const page = await stack.request("/api/docs");
    expect(page.status).toBe(200);
    expect(page.headers.get("content-security-policy")).toContain("script-src 'self'");
    const html = await page.text();
    expect(html).toContain('<script src="docs/assets/swagger-ui-bundle.js"></script>');
    expect(html).not.toMatch(/https?:\/\//);

    const signIn = await stack.app.request("/login", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ token: API_TOKEN, next: "/api/docs" }).toString(),
    });
    expect(signIn.headers.get("location")).toBe("/api/docs");
    const cookie = (signIn.headers.get("set-cookie") ?? "").split(";")[0] as string;
    expect((await stack.app.request("/api/docs", { headers: { cookie } })).status).toBe(200);
    const spec = await stack.app.request("/api/openapi.json", { headers: { cookie } });
    expect(((await spec.json()) as { openapi: string }).openapi).toBe("3.1.0");
  });

  it("serves Swagger UI's files from the npm package, not a CDN", async () => {
    const bundle = await stack.request("/api/docs/assets/swagger-ui-bundle.js");
    expect(bundle.status).toBe(200);
    expect(bundle.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect((await bundle.text()).length).toBeGreaterThan(500_000);
    const css = await stack.request("/api/docs/assets/swagger-ui.css");
    expect(css.headers.get("content-type")).toBe("text/css; charset=utf-8");
    const init = await (await stack.request("/api/docs/assets/init.js")).text();
    expect(init).toContain('url: "./openapi.json"');
    expect(init).toContain("validatorUrl: null");
  });
});
