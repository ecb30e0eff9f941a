import { existsSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, startStack } from "./support/stack.ts";

// Model output is untrusted: a backend "implementation" that tries to write outside its workspace,
// into .git, or far too much, fails the session with a clear error and writes nothing.
describe("hostile model output", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(() => stack?.close());

  const implementation = (files: Array<{ path: string; content: string }>) => ({
    summary: "hostile",
    files: files.map((file) => ({ ...file, purpose: "test" })),
  });

  async function runWith(files: Array<{ path: string; content: string }>) {
    stack.sim.configure({ scenario: { answers: { backend_implementation: implementation(files) } } });
    const id = await stack.submit("Build a todo list app");
    const session = await stack.waitForSession(id);
    const rejected = await stack.db.prisma.sessionEvent.findMany({
      where: { sessionId: id, type: "file.rejected" },
      orderBy: { id: "asc" },
    });
    return { id, session, rejected };
  }

  async function expectNothingWritten(id: string) {
    expect(await stack.db.prisma.generatedFile.count({ where: { sessionId: id } })).toBe(0);
    expect(existsSync(join(stack.workspaceDir, id))).toBe(false);
  }

  it("refuses paths that escape the workspace or reach into .git, under any name git or Windows give it", async () => {
    const hostile = [
      "../../etc/passwd",
      "/etc/cron.d/foundry-test",
      ".git/config",
      "backend/../../../escape.js",
      ".git./hooks/pre-commit",
      "git~1/config",
      ".g\u200cit/config",
    ];
    const { id, session, rejected } = await runWith([
      { path: "backend/server.js", content: "// fine" },
      ...hostile.map((path) => ({ path, content: "pwned" })),
    ]);
    expect(session.status).toBe("failed");
    expect(session.error).toContain(
      "phase implementation failed: rejected 7 generated file(s): ../../etc/passwd (backend): the path leaves its directory (..)",
    );
    expect(session.error).toContain("/etc/cron.d/foundry-test (backend): absolute paths are not allowed");
    expect(session.error).toContain(".git/config (backend): paths inside .git are not allowed");
    expect(session.phases.find((phase) => phase.id === "implementation")?.status).toBe("failed");
    // Nothing hostile reached a later prompt.
    expect(
      stack.sim
        .requests({ schemaName: "test_suite" })
        .some((r) => JSON.stringify(r.body).includes("etc/passwd")),
    ).toBe(false);
    expect(rejected.map((event) => event.message)).toEqual([
      "backend: ../../etc/passwd: the path leaves its directory (..)",
      "backend: /etc/cron.d/foundry-test: absolute paths are not allowed",
      "backend: .git/config: paths inside .git are not allowed",
      "backend: backend/../../../escape.js: the path leaves its directory (..)",
      'backend: .git./hooks/pre-commit: paths inside .git are not allowed (".git." names .git on Windows)',
      'backend: git~1/config: paths inside .git are not allowed ("git~1" names .git on Windows)',
      "backend: .g\u200cit/config: the path contains an invisible or line-breaking character (U+200C)",
    ]);
    await expectNothingWritten(id);
    // Where a naive join would have written: nothing there.
    const root = join(stack.workspaceDir, id);
    for (const path of ["../../etc/passwd", "backend/../../../escape.js"]) {
      const target = resolve(root, path);
      if (target !== "/etc/passwd") expect(existsSync(target)).toBe(false);
    }
    expect(existsSync("/etc/cron.d/foundry-test")).toBe(false);
  });

  it("refuses a 50 MB file", async () => {
    const { id, session, rejected } = await runWith([
      { path: "backend/huge.js", content: "x".repeat(50 * 1024 * 1024) },
    ]);
    expect(session.status).toBe("failed");
    expect(session.error).toContain(
      "backend/huge.js (backend): 52428800 bytes exceed the per-file limit of 1048576",
    );
    expect(rejected).toHaveLength(1);
    await expectNothingWritten(id);
  });

  it("refuses ten thousand files", async () => {
    const files = Array.from({ length: 10_000 }, (_, index) => ({
      path: `backend/f${index}.js`,
      content: "1",
    }));
    const { id, session, rejected } = await runWith(files);
    expect(session.status).toBe("failed");
    expect(session.error).toContain("(all) (backend): 10000 files exceed the limit of 500");
    expect(rejected.map((event) => event.message)).toEqual([
      "backend: (all): 10000 files exceed the limit of 500",
    ]);
    await expectNothingWritten(id);
    expect(await readdir(stack.workspaceDir)).not.toContain(id);
  });
});
