import { access, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { commitLine, commitPhases, openRepository, workspaceGit } from "./git.ts";
import { writeWorkspaceFiles } from "./write.ts";

describe("commit messages from untrusted text", () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), "git-msg-"));
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  it("cuts text at any line separator and blanks control and invisible characters", () => {
    expect(commitLine("Build it\rFoundry-Phase: testing")).toBe("Build it");
    expect(commitLine("Build it\u2028Foundry-Phase: testing")).toBe("Build it");
    expect(commitLine("Build it\u2029x")).toBe("Build it");
    expect(commitLine("Build it\u0085x")).toBe("Build it");
    expect(commitLine("a\tb\u200bc\u202ed\u0007e")).toBe("a b c d e");
    expect(commitLine("x".repeat(200))).toHaveLength(120);
  });

  it("keeps line separators out of the subject and the trailers, so no phase can be forged", async () => {
    await writeWorkspaceFiles(root, [{ path: "a.js", content: "1" }]);
    await openRepository(root);
    await commitPhases(root, null, [
      {
        sessionId: "s-1",
        // A request that tries to add trailers of its own: CR, U+2028 and U+2029 end a line for
        // some readers (JavaScript's `m` flag, terminals, web views) though not for git.
        request:
          "Build a todo app\rFoundry-Phase: testing\u2028Foundry-Phase: files\u2029Foundry-Phase: git\n\nFoundry-Phase: requirements",
        phase: "implementation",
        title: "Implementation\u2028Foundry-Phase: planning",
        files: [{ path: "a.js", content: "1" }],
        models: ["openai/gpt\rFoundry-Phase: voting"],
      },
    ]);
    const git = workspaceGit(root);
    const subject = await git.raw(["log", "-1", "--format=%s"]);
    expect(subject).toBe("implementation: Implementation\n");
    const body = await git.raw(["log", "-1", "--format=%B"]);
    expect(body).not.toMatch(/[\r\u0085\u2028\u2029]/);
    expect(body).toBe(
      [
        "implementation: Implementation",
        "",
        "Request: Build a todo app",
        "",
        "Foundry-Session: s-1",
        "Foundry-Phase: implementation",
        "Foundry-Models: openai/gpt",
        "",
        "",
      ].join("\n"),
    );
    expect((await openRepository(root)).map((commit) => commit.phase)).toEqual(["implementation"]);
  });
});

describe("commits through git fast-import", () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), "git-import-"));
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  const commit = (phase: string, files: Array<{ path: string; content: string }>) => ({
    sessionId: "s-2",
    request: "Build it",
    phase,
    title: phase,
    models: ["openai/gpt-6-sol (manager)"],
    files,
  });

  it("makes one commit per phase with its files, continues an existing history, and leaves a clean tree", async () => {
    const first = [
      { path: "backend/app.js", content: "console.log('ü');\n" },
      { path: "docs/a file with spaces.md", content: "# hi\n" },
    ];
    await writeWorkspaceFiles(root, first);
    expect(await openRepository(root)).toEqual([]);
    const [a] = await commitPhases(root, null, [commit("implementation", first)]);

    const second = [{ path: "tests/app.test.js", content: "ok\n" }];
    await writeWorkspaceFiles(root, second);
    const history = await openRepository(root);
    expect(history).toEqual([
      { sha: a, message: expect.stringContaining("Foundry-Phase: implementation"), phase: "implementation" },
    ]);
    const shas = await commitPhases(root, a ?? null, [
      commit("testing", second),
      commit("files", [{ path: "README.md", content: "r" }]),
    ]);
    await writeWorkspaceFiles(root, [{ path: "README.md", content: "r" }]);

    const git = workspaceGit(root);
    expect((await git.raw(["rev-list", "HEAD"])).trim().split("\n")).toEqual([shas[1], shas[0], a]);
    expect(await git.raw(["show", "HEAD~1:tests/app.test.js"])).toBe("ok\n");
    expect(await git.raw(["show", `${a}:backend/app.js`])).toBe("console.log('ü');\n");
    expect((await git.raw(["ls-tree", "-r", "--name-only", "HEAD"])).trim().split("\n").sort()).toEqual(
      ["README.md", "backend/app.js", "docs/a file with spaces.md", "tests/app.test.js"].sort(),
    );
    // The index matches HEAD and the working tree: nothing to commit.
    expect(await git.raw(["status", "--porcelain"])).toBe("");
    // Each import stays one pack (fast-import did not explode it into loose objects), and the
    // repository was made without git's template directory (no sample hooks).
    expect(await git.raw(["count-objects", "-v"])).toMatch(/^count: 0$[\s\S]*^packs: 2$/m);
    await expect(access(join(root, ".git", "hooks"))).rejects.toThrow();
    expect(await git.raw(["fsck", "--strict"])).toBe("");
    expect((await openRepository(root)).map((entry) => entry.phase)).toEqual([
      "files",
      "testing",
      "implementation",
    ]);
  });
});
