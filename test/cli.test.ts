import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { findDevEndpoint, removeDevEndpoint, writeDevEndpoint } from "@foundry/client";
import { serve } from "@hono/node-server";
import { x as extract } from "tar";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { API_TOKEN, type Stack, startStack, WORKFLOWS_DIR } from "./support/stack.ts";
import { startTcpProxy } from "./support/tcp-proxy.ts";
import { callInFlight, until } from "./support/wait.ts";

// The CLI as a user runs it: a child process talking HTTP to a listening API backed by the
// in-process stack (real workers, Postgres, Redis and the provider simulator). Commands that do
// not depend on each other run side by side: each start of the CLI costs most of a second.

const CLI = fileURLToPath(new URL("../apps/cli/src/bin.js", import.meta.url));
const REPO_ROOT = fileURLToPath(new URL("..", import.meta.url));
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A CLI process still running: what it printed so far, and its end. */
interface Running {
  child: ChildProcess;
  output(): { stdout: string; stderr: string };
  done: Promise<Run>;
}

let stack: Stack;
let server: ReturnType<typeof serve>;
let apiUrl: string;
let tmp: string;

interface CliOptions {
  env?: Record<string, string>;
  cwd?: string;
}

function start(args: string[], options: CliOptions = {}): Running {
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: options.cwd ?? tmp,
    env: { ...process.env, API_URL: apiUrl, API_TOKEN, ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    stdout += chunk.toString("utf8");
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString("utf8");
  });
  const done = new Promise<Run>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
  return { child, output: () => ({ stdout, stderr }), done };
}

function cli(args: string[], options: CliOptions = {}): Promise<Run> {
  return start(args, options).done;
}

/** stdout must be one JSON document and nothing else. */
function json<T = Record<string, unknown>>(run: Run): T {
  expect(run.stdout.trim().startsWith("{"), `JSON on stdout, got: ${run.stdout.slice(0, 200)}`).toBe(true);
  return JSON.parse(run.stdout) as T;
}

async function phaseTitles(): Promise<string[]> {
  const body = (await (await stack.request("/api/workflows")).json()) as {
    workflows: { name: string; phases: { title: string }[] }[];
  };
  return body.workflows.find((w) => w.name === "software-project")?.phases.map((p) => p.title) ?? [];
}

async function statusOf(id: string): Promise<string> {
  return ((await (await stack.request(`/api/sessions/${id}`)).json()) as { status: string }).status;
}

/** A port nobody listens on: bound by the OS, then released. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/** The id of a process that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ["-e", "0"], { stdio: "ignore" });
  await new Promise((resolve) => child.on("close", resolve));
  return child.pid as number;
}

beforeAll(async () => {
  stack = await startStack();
  tmp = await mkdtemp(join(tmpdir(), "foundry-cli-"));
  await new Promise<void>((resolve) => {
    server = serve({ fetch: stack.app.fetch, port: 0, hostname: "127.0.0.1" }, (info) => {
      apiUrl = `http://127.0.0.1:${info.port}`;
      resolve();
    });
  });
});

afterAll(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  await stack?.close();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe("foundry CLI against a listening API", () => {
  let id: string;

  it("submit --wait follows the session to success, phase by phase (exit 0)", async () => {
    const run = await cli(["submit", "Build a todo list app", "--wait"]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const first = run.stdout.split("\n")[0] ?? "";
    expect(first).toMatch(new RegExp(`^session ${UUID.source} submitted \\(workflow software-project\\)$`));
    id = UUID.exec(first)?.[0] as string;
    expect(await statusOf(id)).toBe("succeeded");
    // Every phase has its line, in order: done or skipped.
    const titles = await phaseTitles();
    expect(titles).toHaveLength(9);
    let from = 0;
    for (const title of titles) {
      const at = run.stdout.indexOf(`✓ ${title} done`, from);
      const skipped = run.stdout.indexOf(`↷ ${title} skipped`, from);
      const found = at >= 0 ? at : skipped;
      expect(found, `a line for phase "${title}"`).toBeGreaterThanOrEqual(0);
      from = found;
    }
    expect(run.stdout).toMatch(new RegExp(`session +${id} succeeded in `));
    expect(run.stdout).toMatch(/usage +\d+ calls · [\d,]+ in \+ [\d,]+ out tokens · \$\d+\.\d{4}/);
    // Piped: plain lines, no colours or cursor movement.
    expect(run.stdout).not.toContain("\x1b");
  });

  it("show and watch of an ended session; --json prints one document on stdout, progress on stderr", async () => {
    const [human, asJson, watched] = await Promise.all([
      cli(["show", id]),
      cli(["show", id, "--json"]),
      cli(["watch", id, "--json"]),
    ]);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain(id);
    expect(human.stdout).toMatch(/^status +succeeded$/m);
    expect(human.stdout).toMatch(/^ +✓ +requirements +Requirements refinement +succeeded +\d/m);
    expect(human.stdout).toMatch(
      /openai\/gpt-6-sol +succeeded +[\d,]+\+[\d,]+ tok +\$\d+\.\d{4} +test-host:\d+/,
    );
    expect(human.stdout).toMatch(/^ +README\.md +\d/m);

    expect(asJson.code).toBe(0);
    const view = json<{ id: string; status: string; phases: unknown[]; files: unknown[] }>(asJson);
    const expected = (await (await stack.request(`/api/sessions/${id}`)).json()) as typeof view;
    expect(view.id).toBe(id);
    expect(view.status).toBe("succeeded");
    expect(view.phases).toEqual(expected.phases);
    expect(view.files).toEqual(expected.files);

    // The stream replays the whole session, then ends: the session's outcome is the exit code.
    expect(watched.code).toBe(0);
    expect(json(watched)).toEqual(expected);
    expect(watched.stderr).toContain("✓ Requirements refinement done");
    expect(watched.stderr).toMatch(new RegExp(`session +${id} succeeded`));
  });

  it("list prints a table of sessions (or JSON) and checks its arguments", async () => {
    const [run, asJson, empty, badStatus] = await Promise.all([
      cli(["list", "--limit", "5"]),
      cli(["list", "--json"]),
      cli(["list", "--status", "cancelled"]),
      cli(["list", "--status", "done"]),
    ]);
    expect(run.code).toBe(0);
    const [header, ...rows] = run.stdout.trim().split("\n");
    expect(header).toMatch(/^ID +STATUS +WORKFLOW +CREATED +TOKENS +COST +REQUEST$/);
    expect(rows.find((row) => row.startsWith(id))).toMatch(
      /succeeded +software-project .* Build a todo list app$/,
    );
    expect(asJson.code).toBe(0);
    expect(json<{ sessions: { id: string }[] }>(asJson).sessions.map((session) => session.id)).toContain(id);
    expect(empty).toMatchObject({ code: 0, stdout: "no cancelled sessions\n" });
    expect(badStatus.code).toBe(2);
    expect(badStatus.stderr).toContain("'--status <status>' argument 'done' is invalid");
    expect(badStatus.stderr).toContain("budget_exceeded");
  });

  it("files lists the generated files as a tree, prints one file's content, or a directory's tree", async () => {
    const listed = (await (await stack.request(`/api/sessions/${id}/files`)).json()) as {
      files: { path: string }[];
    };
    const nested = listed.files.find((file) => file.path.includes("/"))?.path as string;
    expect(nested, "a generated file in a directory").toBeDefined();
    const dir = nested.split("/")[0] as string;
    const readme = await (await stack.request(`/api/sessions/${id}/files/README.md`)).text();
    const [tree, asJson, content, contentJson, subtree, missing, empty] = await Promise.all([
      cli(["files", id]),
      cli(["files", id, "--json"]),
      cli(["files", id, "README.md"]),
      cli(["files", id, "README.md", "--json"]),
      cli(["files", id, `${dir}/`]),
      cli(["files", id, "no/such-file.txt"]),
      cli(["files", id, "/"]),
    ]);
    expect(tree.code).toBe(0);
    expect(tree.stdout).toMatch(/^README\.md +\d+(\.\d)? (B|KiB) +\w+$/m);
    expect(tree.stdout).toContain(`${dir}/\n`);
    expect(tree.stdout).toMatch(/^[│ ]*[├└]── \S+ +\d/m);
    expect(tree.stdout).toMatch(new RegExp(`^${listed.files.length} files, `, "m"));
    expect(json(asJson)).toEqual(listed);

    expect(content).toMatchObject({ code: 0, stdout: readme, stderr: "" });
    expect(json(contentJson)).toEqual({ path: "README.md", content: readme });

    expect(subtree.code).toBe(0);
    expect(subtree.stdout.split("\n")[0]).toBe(`${dir}/`);
    expect(subtree.stdout).not.toContain("README.md");

    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe(`foundry: no file "no/such-file.txt" in session ${id}\n`);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toMatch(/^foundry: "\/" is not a file path/);
  });

  it("download saves the project as a tar.gz, named by the API or by -o", async () => {
    const dir = await mkdtemp(join(tmp, "download-"));
    const run = await cli(["download", id], { cwd: dir });
    expect(run.code).toBe(0);
    const name = `foundry-${id.slice(0, 8)}.tar.gz`;
    expect(run.stdout).toBe(`saved ${join(dir, name)} (${run.stdout.match(/\((.+)\)/)?.[1]})\n`);
    expect(await readdir(dir)).toEqual([name]);
    await extract({ file: join(dir, name), cwd: dir });
    expect(await readFile(join(dir, `foundry-${id.slice(0, 8)}`, "README.md"), "utf8")).toContain(
      "Build a todo list app",
    );

    const file = join(dir, "project.tgz");
    const named = await cli(["download", id, "-o", file, "--json"]);
    expect(named.code).toBe(0);
    expect(json(named)).toEqual({ id, file, bytes: (await stat(file)).size });
    expect(await readFile(file)).toEqual(await readFile(join(dir, name)));
  });

  it("workflows list shows what the API offers; validate checks a file offline", async () => {
    const offline = { API_URL: `http://127.0.0.1:${await closedPort()}` };
    const broken = join(tmp, "broken.yaml");
    const text = await readFile(join(WORKFLOWS_DIR, "software-project.yaml"), "utf8");
    await writeFile(broken, text.replace("role: manager", "role: ghost"));
    const line = text.slice(0, text.indexOf("role: manager")).split("\n").length;
    const good = join(WORKFLOWS_DIR, "software-project.yaml");
    const [list, listJson, ok, bad, badJson] = await Promise.all([
      cli(["workflows", "list"]),
      cli(["workflows", "list", "--json"]),
      cli(["workflows", "validate", good], { env: offline }),
      cli(["workflows", "validate", broken], { env: offline }),
      cli(["workflows", "validate", broken, "--json"], { env: offline }),
    ]);
    expect(list.code).toBe(0);
    expect(list.stdout).toContain("software-project");
    expect(list.stdout).toContain("requirements → planning → comparison");
    expect(json(listJson)).toEqual(await (await stack.request("/api/workflows")).json());

    expect(ok).toMatchObject({ code: 0, stdout: "ok: software-project (9 phases)\n", stderr: "" });

    expect(bad.code).toBe(1);
    expect(bad.stdout).toBe("");
    expect(bad.stderr).toMatch(
      new RegExp(`^${broken}:${line}:\\d+ phases\\[0\\]\\.tasks\\[0\\]\\.role: unknown role "ghost"`, "m"),
    );
    expect(badJson.code).toBe(1);
    expect(json(badJson)).toMatchObject({
      valid: false,
      file: broken,
      issues: [expect.objectContaining({ line, path: "phases[0].tasks[0].role" })],
    });
  });

  it("submit without --wait prints only the id, and watch follows it to the end", async () => {
    const submitted = await cli(["submit", "Build a notes app"]);
    expect(submitted.code).toBe(0);
    expect(submitted.stdout).toMatch(new RegExp(`^${UUID.source}\\n$`));
    const newId = submitted.stdout.trim();
    const watched = await cli(["watch", newId]);
    expect(watched.code).toBe(0);
    expect(watched.stdout).toContain("✓ Requirements refinement done");
    expect(watched.stdout).toMatch(new RegExp(`session +${newId} succeeded`));
    expect(await statusOf(newId)).toBe("succeeded");
  });

  it("a cancelled session: delete is refused while it runs, cancel ends it, --wait exits 3, then delete removes it", async () => {
    // The backend plan hangs until the cancel aborts it.
    stack.sim.injectFault({ provider: "anthropic", kind: "hang", times: 1 });
    const follower = start(["submit", "Build a cancellable app", "--wait"]);
    await until(() => UUID.test(follower.output().stdout), "the submitted line");
    const cancelId = UUID.exec(follower.output().stdout)?.[0] as string;
    await callInFlight(stack, `${cancelId}.planning.backend`);

    const refused = await cli(["delete", cancelId]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(
      `foundry: refused: session ${cancelId} is running: it cannot be deleted (only a session that has ended can be; cancel it first); ` +
        `to stop it: foundry cancel ${cancelId}, then foundry delete ${cancelId}\n`,
    );
    expect(await statusOf(cancelId)).toBe("running");

    const cancelled = await cli(["cancel", cancelId, "--json"]);
    expect(cancelled.code).toBe(0);
    expect(json(cancelled)).toMatchObject({ id: cancelId, status: "cancelled" });

    const followed = await follower.done;
    expect(followed.code).toBe(3);
    expect(followed.stdout).toMatch(/✗ session cancelled: /);
    expect(followed.stdout).toMatch(new RegExp(`session +${cancelId} cancelled in `));
    expect(followed.stdout).toMatch(new RegExp(`^resume +foundry retry ${cancelId}$`, "m"));

    const again = await cli(["cancel", cancelId]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/is cancelled: it cannot be cancelled/);

    const deleted = await cli(["delete", cancelId, "--json"]);
    expect(deleted.code).toBe(0);
    expect(json(deleted)).toEqual({ id: cancelId, deleted: true });
    expect((await stack.request(`/api/sessions/${cancelId}`)).status).toBe(404);
    const gone = await cli(["show", cancelId]);
    expect(gone).toMatchObject({ code: 1, stderr: `foundry: no session ${cancelId}\n` });
  });

  it("a session over its budget: watch exits 4; retry --budget --wait resumes it to success", async () => {
    const submitted = await cli(["submit", "Build a todo list app", "--budget", "0.01", "--json"]);
    expect(submitted.code).toBe(0);
    const budgetId = json<{ id: string; status: string }>(submitted).id;
    expect(json(submitted)).toMatchObject({ id: expect.stringMatching(UUID), status: "queued" });
    const stopped = await cli(["watch", budgetId]);
    expect(stopped.code).toBe(4);
    expect(await statusOf(budgetId)).toBe("budget_exceeded");
    expect(stopped.stdout).toMatch(/■ session stopped at its budget: /);
    expect(stopped.stdout).toContain(`foundry retry ${budgetId} --budget <usd>`);

    const resumed = await cli(["retry", budgetId, "--budget", "5", "--wait", "--json"]);
    expect(resumed.code).toBe(0);
    expect(json(resumed)).toMatchObject({ id: budgetId, status: "succeeded", budgetUsd: 5 });
    expect(resumed.stderr).toContain("✓ Requirements refinement done");
  });

  it("watch resumes after a dropped connection without losing or repeating an event", async () => {
    const proxy = await startTcpProxy({ host: "127.0.0.1", port: Number(new URL(apiUrl).port) });
    // Slow plans: the session is still running when the connection drops.
    stack.sim.configure({ latencyMs: { anthropic: 800 } });
    try {
      const watchId = await stack.submit("Build a todo list app");
      const watcher = start(["watch", watchId], { env: { API_URL: proxy.rewrite(apiUrl) } });
      await until(
        () => watcher.output().stdout.includes("✓ Requirements refinement done"),
        "the first phase's line",
      );
      proxy.cut();
      await sleep(300);
      proxy.restore();
      const run = await watcher.done;
      expect(run.code).toBe(0);
      expect(run.stderr).toMatch(/^foundry: connection lost \(.+\); resuming in /m);
      // Each event once: the same lines as a watch of the ended session that nothing disturbed.
      const replay = await cli(["watch", watchId]);
      expect(replay.stderr).toBe("");
      expect(run.stdout).toBe(replay.stdout);
      expect(run.stdout.split("\n").filter((line) => line.startsWith("✓")).length).toBeGreaterThan(5);
      expect(await statusOf(watchId)).toBe("succeeded");
    } finally {
      stack.sim.configure({ latencyMs: { anthropic: null } });
      await proxy.close();
    }
  });

  describe("finds a running npm run dev by itself", () => {
    // Another npm run dev running in this checkout would be found too: then only what does not
    // depend on its absence is checked.
    let devRunningHere = false;
    beforeAll(async () => {
      devRunningHere = (await findDevEndpoint(REPO_ROOT)).kind === "found";
    });
    const noApi = { API_URL: "", API_TOKEN: "" };

    it("through the .data/dev.json it writes (mode 0600), from a subdirectory, never printing the token", async () => {
      const checkout = join(tmp, "checkout");
      const sub = join(checkout, "apps", "somewhere");
      await mkdir(sub, { recursive: true });
      const token = API_TOKEN;
      const file = await writeDevEndpoint(join(checkout, ".data"), {
        url: apiUrl,
        token,
        pid: process.pid,
        startedAt: new Date().toISOString(),
      });
      expect(file).toBe(join(checkout, ".data", "dev.json"));
      expect((await stat(file)).mode & 0o777).toBe(0o600);

      const [listed, sameUrl, otherToken] = await Promise.all([
        cli(["list", "--json"], { cwd: sub, env: noApi }),
        // A URL without a token: the dev file's token, as it names that URL.
        cli(["show", id], { cwd: checkout, env: { API_URL: apiUrl, API_TOKEN: "" } }),
        // A token given wins over the file's.
        cli(["list"], { cwd: sub, env: { API_URL: "", API_TOKEN: "not-the-token" } }),
      ]);
      expect(listed.code).toBe(0);
      expect(listed.stderr).toBe("");
      expect(json<{ sessions: { id: string }[] }>(listed).sessions.map((session) => session.id)).toContain(
        id,
      );
      expect(sameUrl.code).toBe(0);
      expect(otherToken).toMatchObject({
        code: 1,
        stderr: "foundry: the API refused the token: set API_TOKEN or --token\n",
      });
      for (const run of [listed, sameUrl, otherToken]) expect(run.stdout + run.stderr).not.toContain(token);

      // Removed by the process that wrote it only.
      await removeDevEndpoint(join(checkout, ".data"), process.pid + 1);
      expect((await stat(file)).isFile()).toBe(true);
      await removeDevEndpoint(join(checkout, ".data"), process.pid);
      await expect(stat(file)).rejects.toThrow(/ENOENT/);
    });

    it("ignores a file left by a dev that died, and says what to do when none runs", async () => {
      const stale = join(tmp, "stale");
      const pid = await deadPid();
      await writeDevEndpoint(join(stale, ".data"), {
        url: apiUrl,
        token: API_TOKEN,
        pid,
        startedAt: new Date().toISOString(),
      });
      const empty = await mkdtemp(join(tmp, "empty-"));
      const [staleRun, none] = await Promise.all([
        cli(["list"], { cwd: stale, env: noApi }),
        cli(["list"], { cwd: empty, env: noApi }),
      ]);
      expect(staleRun.stderr).toContain(
        `foundry: ignoring .data/dev.json: left behind by npm run dev (pid ${pid}), which is no longer running\n`,
      );
      expect(staleRun.stdout + staleRun.stderr).not.toContain(API_TOKEN);
      if (devRunningHere) return;
      expect(staleRun.code).toBe(2);
      expect(none.code).toBe(2);
      expect(none.stdout).toBe("");
      // The last line (a file a killed dev left in this checkout would be reported before it).
      expect(none.stderr.trimEnd().split("\n").at(-1)).toBe(
        `foundry: no API to talk to: no running \`npm run dev\` found (looked for .data/dev.json in ${empty} and its parents, and in ${REPO_ROOT.replace(/\/$/, "")}). ` +
          "Start one with `npm run dev` in the Foundry checkout, or set API_URL and API_TOKEN (or --url and --token).",
      );
      expect(staleRun.stderr).toContain("foundry: no API to talk to:");
    });
  });

  it("refuses a wrong token without printing it", async () => {
    const token = "wrong-token-5f0e1d2c3b4a";
    const runs = await Promise.all([
      cli(["list"], { env: { API_TOKEN: token } }),
      cli(["show", id, "--token", token], { env: { API_TOKEN: "" } }),
    ]);
    for (const run of runs) {
      expect(run.code).toBe(1);
      expect(run.stderr).toBe("foundry: the API refused the token: set API_TOKEN or --token\n");
      expect(run.stdout + run.stderr).not.toContain(token);
    }
    const none = await cli(["list"], { env: { API_TOKEN: "" } });
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/none was given: set API_TOKEN or --token/);
  });

  it("says clearly when the API cannot be reached, or is not a Foundry API, or has no such session", async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const unknown = randomUUID();
    const [unreachable, notFoundry, show, download] = await Promise.all([
      cli(["list"], { env: { API_URL: url } }),
      cli(["list"], { env: { API_URL: stack.sim.url } }),
      cli(["show", unknown]),
      cli(["download", "not-an-id"]),
    ]);
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toBe(
      `foundry: cannot reach the API at ${url}: connect ECONNREFUSED 127.0.0.1:${url.split(":")[2]}; is it running? (npm run dev)\n`,
    );
    expect(notFoundry.code).toBe(1);
    expect(notFoundry.stderr).toMatch(
      /^foundry: unexpected answer from .*\/api\/sessions: .*; is API_URL a Foundry API\?\n$/,
    );
    expect(show.code).toBe(1);
    expect(show.stderr).toBe(`foundry: no session ${unknown}\n`);
    expect(download.code).toBe(1);
    expect(download.stderr).toBe('foundry: no session "not-an-id"\n');
  });

  it("bad usage exits 2 with a message, never a stack trace; --help documents the exit codes", async () => {
    const runs = await Promise.all([
      cli(["frobnicate"]),
      cli(["show", id, "--jsno"]),
      cli(["submit", "   "]),
      cli(["submit", "Build it", "--budget", "0"]),
      cli(["list"], { env: { API_URL: "not a url" } }),
      cli(["--help"]),
    ]);
    const [command, option, emptyRequest, budget, badUrl, help] = runs;
    expect(command?.stderr).toContain("unknown command 'frobnicate'");
    expect(option?.stderr).toContain("unknown option '--jsno'");
    expect(emptyRequest?.stderr).toMatch(/^foundry: the request is empty/);
    expect(budget?.stderr).toContain("expected an amount of US dollars above 0");
    expect(badUrl?.stderr).toBe('foundry: --url/API_URL is not a URL: "not a url"\n');
    for (const run of runs.slice(0, -1)) {
      expect(run.code).toBe(2);
      expect(run.stdout).toBe("");
      expect(run.stderr).not.toMatch(/\n\s+at /);
    }
    expect(help?.code).toBe(0);
    expect(help?.stdout).toMatch(/^Exit codes:\n {2}0 .*\n {2}1 .*failed/m);
    expect(help?.stdout).toMatch(/^ {2}3 +with --wait \/ watch: the session was cancelled$/m);
    expect(help?.stdout).toMatch(/^ {2}4 +with --wait \/ watch: the session stopped at its budget/m);
    expect(help?.stdout).toContain(".data/dev.json");
    for (const name of [
      "submit",
      "watch",
      "list",
      "show",
      "cancel",
      "retry",
      "delete",
      "files",
      "download",
      "workflows",
    ]) {
      expect(help?.stdout).toMatch(new RegExp(`^ {2}${name} `, "m"));
    }
  });

  it("submit --wait exits 1 when the session fails", async () => {
    stack.sim.injectFault({ provider: "openai", schemaName: "requirements", kind: "unauthorized" });
    const run = await cli(["submit", "Build a todo list app", "--wait"]);
    expect(run.code).toBe(1);
    const failedId = UUID.exec(run.stdout)?.[0] as string;
    expect(await statusOf(failedId)).toBe("failed");
    expect(run.stdout).toMatch(/✗ session failed: /);
    expect(run.stdout).toMatch(new RegExp(`session +${failedId} failed in `));
    expect(run.stdout).not.toContain("✓ Requirements refinement done");
  });
});
