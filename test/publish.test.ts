import { execFileSync } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type FakeGitHub, startFakeGitHub } from "./support/fake-github.ts";
import { type Stack, startStack } from "./support/stack.ts";

const TOKEN = "ghp_testtoken0123456789abcdefABCDEF0123";

describe("publishing to GitHub", () => {
  let github: FakeGitHub;
  let stack: Stack;
  beforeAll(async () => {
    github = await startFakeGitHub({ token: TOKEN });
    stack = await startStack({
      github: {
        token: TOKEN,
        apiUrl: github.url,
        env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "" },
      },
    });
  });
  afterAll(async () => {
    await stack?.close();
    await github?.close();
  });

  it("creates the repository, pushes main and stores the URL", async () => {
    const id = await stack.submit("Build a todo list app", { publish: true, repoName: "todo-demo" });
    const session = await stack.waitForSession(id);
    expect(session.error).toBeNull();
    expect(session.status).toBe("succeeded");
    expect(session.repository).toBe(`${github.url}/octocat/todo-demo`);

    const created = github.requests.find(
      (request) => request.method === "POST" && request.path === "/user/repos",
    );
    expect(created?.body).toMatchObject({
      name: "todo-demo",
      private: true,
      description: "Build a todo list app",
    });
    expect(created?.authorization).toBe(`token ${TOKEN}`);

    // The push landed: the bare repository's main is the workspace's HEAD, with every phase commit.
    const bare = join(github.root, "octocat", "todo-demo.git");
    const remoteHead = execFileSync("git", ["--git-dir", bare, "rev-parse", "main"], {
      encoding: "utf8",
    }).trim();
    const workspace = session.workspace as string;
    expect(execFileSync("git", ["rev-parse", "HEAD"], { cwd: workspace, encoding: "utf8" }).trim()).toBe(
      remoteHead,
    );
    const log = execFileSync("git", ["--git-dir", bare, "log", "--format=%B", "main"], { encoding: "utf8" });
    expect(log).toContain("Foundry-Phase: implementation");
    expect(log).toContain(`Foundry-Session: ${id}`);

    // The token is nowhere in the repository's config, the events or the stored session.
    expect(await readFile(join(workspace, ".git", "config"), "utf8")).not.toContain(TOKEN);
    const events = await stack.db.prisma.sessionEvent.findMany({ where: { sessionId: id } });
    expect(
      JSON.stringify(events, (_key, value) => (typeof value === "bigint" ? String(value) : value)),
    ).not.toContain(TOKEN);
    expect(events.some((event) => event.type === "git.published")).toBe(true);
  });

  it("fails clearly when the repository name is taken", async () => {
    const id = await stack.submit("Build a todo list app", { publish: true, repoName: "todo-demo" });
    const session = await stack.waitForSession(id);
    expect(session.status).toBe("failed");
    expect(session.error).toMatch(/GitHub refused to create repository "todo-demo": .*already exists/);
    expect(session.error).not.toContain(TOKEN);
  });
});

describe("publishing without a token", () => {
  let stack: Stack;
  beforeAll(async () => {
    // The API believes it can publish (as when only the API has GITHUB_TOKEN); the worker cannot.
    stack = await startStack({ canPublish: true, github: null });
  });
  afterAll(() => stack?.close());
  afterEach(() => stack.sim.clearRequests());

  it("is refused with a clear message, and the project is still committed locally", async () => {
    const id = await stack.submit("Build a todo list app", { publish: true });
    const session = await stack.waitForSession(id);
    expect(session.status).toBe("failed");
    expect(session.error).toContain("publishing to GitHub was requested but GITHUB_TOKEN is not set");
    expect(session.phases.find((phase) => phase.id === "git")?.status).toBe("failed");
    expect(session.repository).toBeNull();
  });
});
