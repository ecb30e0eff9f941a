import { execFileSync } from "node:child_process";
import { access, mkdtemp, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { commitLine, commitPhases, openRepository, phaseCommitMessage, workspaceGit } from "./git.ts";
import { STALE_LOCK_MS } from "./git-pack.ts";
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

describe("commits, in-process for a new history and through git fast-import after", () => {
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

  it("writes a new history byte for byte as git commit would, with an index git finds clean", async () => {
    // Names whose order differs between a tree (a directory sorts as if it ended in "/") and the
    // index (whole paths), a file changed by a later commit, spaces and non-ASCII names.
    const phases = [
      commit("implementation", [
        { path: "a/b.js", content: "1\n" },
        { path: "a.b", content: "2\n" },
        { path: "a-b/c.txt", content: "3\n" },
        { path: "a0", content: "4\n" },
        { path: "docs/über uns.md", content: "# ü\n" },
      ]),
      commit("testing", [
        { path: "a/b.js", content: "1 changed\n" },
        { path: "a/c/d/e.js", content: "deep\n" },
      ]),
      commit("files", [
        { path: "README.md", content: "".padEnd(5000, "readme ") },
        // Larger than SMALL_OBJECT_BYTES: deflated on the thread pool with zlib's defaults; the rest stored.
        {
          path: "data/large.json",
          content: JSON.stringify(Array.from({ length: 12_000 }, (_, n) => ({ n }))),
        },
      ]),
    ];
    for (const phase of phases) await writeWorkspaceFiles(root, phase.files);
    const shas = await commitPhases(root, null, phases);

    const git = workspaceGit(root);
    expect((await git.raw(["rev-list", "HEAD"])).trim().split("\n")).toEqual([...shas].reverse());
    expect(await git.raw(["status", "--porcelain"])).toBe("");
    expect(await git.raw(["fsck", "--strict"])).toBe("");
    expect(await git.raw(["count-objects", "-v"])).toMatch(/^count: 0$[\s\S]*^packs: 1$/m);
    expect(await git.raw(["show", `${shas[0]}:a/b.js`])).toBe("1\n");
    expect(await git.raw(["show", "HEAD:a/b.js"])).toBe("1 changed\n");
    expect(await git.raw(["show", "HEAD:data/large.json"])).toBe(phases[2]?.files[1]?.content);
    await expect(access(join(root, ".git", "hooks"))).rejects.toThrow();

    // The same commits made by git itself, at the same second, in a repository of its own.
    const time = (await git.raw(["log", "-1", "--format=%at"])).trim();
    const oracle = await mkdtemp(join(tmpdir(), "git-oracle-"));
    try {
      const env = {
        ...process.env,
        GIT_AUTHOR_NAME: "Foundry",
        GIT_AUTHOR_EMAIL: "foundry@localhost",
        GIT_AUTHOR_DATE: `@${time} +0000`,
        GIT_COMMITTER_NAME: "Foundry",
        GIT_COMMITTER_EMAIL: "foundry@localhost",
        GIT_COMMITTER_DATE: `@${time} +0000`,
        GIT_CONFIG_NOSYSTEM: "1",
      };
      const gitIn = (...args: string[]) =>
        execFileSync("git", ["-C", oracle, "-c", "commit.gpgsign=false", ...args], { env, encoding: "utf8" });
      gitIn("init", "--quiet", "--initial-branch=main");
      const made: string[] = [];
      for (const phase of phases) {
        await writeWorkspaceFiles(oracle, phase.files);
        gitIn("add", "--", ...phase.files.map((file) => file.path));
        const message = join(oracle, ".git", "MESSAGE");
        await writeFile(message, `${phaseCommitMessage(phase)}\n`);
        gitIn("commit", "--quiet", "--cleanup=verbatim", "-F", message);
        made.push(gitIn("rev-parse", "HEAD").trim());
      }
      expect(shas).toEqual(made);
    } finally {
      await rm(oracle, { recursive: true, force: true });
    }
  });

  it("creates the repository without git when there is nothing to commit, and never moves a main made meanwhile", async () => {
    expect(await commitPhases(root, null, [])).toEqual([]);
    const git = workspaceGit(root);
    expect(await git.raw(["rev-parse", "--git-dir"])).toBe(".git\n");
    expect(await git.raw(["symbolic-ref", "HEAD"])).toBe("refs/heads/main\n");
    expect(await openRepository(root)).toEqual([]);

    const files = [{ path: "a.js", content: "1" }];
    await writeWorkspaceFiles(root, files);
    const [first] = await commitPhases(root, null, [commit("implementation", files)]);
    // A second writer that also found no history (a duplicate delivery of the phase) fails, and
    // leaves main where the first one put it.
    await expect(commitPhases(root, null, [commit("testing", files)])).rejects.toThrow(
      /refs\/heads\/main: it exists already/,
    );
    expect((await git.raw(["rev-parse", "main"])).trim()).toBe(first);
    expect(await git.raw(["fsck", "--strict"])).toBe("");
  });

  it("lets exactly one of two writers racing for a new history make it, leaving a repository git accepts", async () => {
    const files = [{ path: "src/a.js", content: "1" }];
    await writeWorkspaceFiles(root, files);
    const results = await Promise.allSettled([
      commitPhases(root, null, [commit("implementation", files)]),
      commitPhases(root, null, [commit("testing", [...files, { path: "b.js", content: "2" }])]),
    ]);
    const made = results.flatMap((result) => (result.status === "fulfilled" ? [result.value] : []));
    expect(made).toHaveLength(1);
    expect(results.find((result) => result.status === "rejected")).toMatchObject({
      reason: expect.objectContaining({ message: expect.stringMatching(/refs\/heads\/main/) }),
    });
    const git = workspaceGit(root);
    expect((await git.raw(["rev-parse", "main"])).trim()).toBe(made[0]?.[0]);
    // The loser's pack may be left unreferenced (dangling), never broken.
    const fsck = (await git.raw(["fsck", "--strict"])).trim();
    expect(fsck.split("\n").filter((line) => line !== "" && !line.startsWith("dangling "))).toEqual([]);
    await writeWorkspaceFiles(root, [{ path: "b.js", content: "2" }]);
    const status = await git.raw(["status", "--porcelain"]);
    expect(status === "" || status === "?? b.js\n").toBe(true);
  });

  it("takes over a lock left by a writer that died, and only a stale one", async () => {
    const files = [{ path: "a.js", content: "1" }];
    await writeWorkspaceFiles(root, files);
    expect(await commitPhases(root, null, [])).toEqual([]);
    const lock = join(root, ".git", "refs", "heads", "main.lock");
    await writeFile(lock, "");
    // A live writer's lock: refused.
    await expect(commitPhases(root, null, [commit("implementation", files)])).rejects.toThrow(
      /main\.lock exists \(another writer\)/,
    );
    // The same lock, older than a writer ever holds it: the writer died.
    const old = new Date(Date.now() - STALE_LOCK_MS - 1_000);
    await utimes(lock, old, old);
    const [sha] = await commitPhases(root, null, [commit("implementation", files)]);
    const git = workspaceGit(root);
    expect((await git.raw(["rev-parse", "main"])).trim()).toBe(sha);
    expect(await git.raw(["status", "--porcelain"])).toBe("");
    await expect(access(lock)).rejects.toThrow();
  });
});
