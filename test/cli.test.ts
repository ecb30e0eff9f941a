import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { serve } from "@hono/node-server";
import { x as extract } from "tar";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { API_TOKEN, type Stack, startStack, WORKFLOWS_DIR } from "./support/stack.ts";

// The CLI as a user runs it: a child process talking HTTP to a listening API backed by the
// in-process stack (real workers, Postgres, Redis and the provider simulator).

const CLI = fileURLToPath(new URL("../apps/cli/src/main.ts", import.meta.url));
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

let stack: Stack;
let server: ReturnType<typeof serve>;
let apiUrl: string;
let tmp: string;

function cli(args: string[], options: { env?: Record<string, string>; cwd?: string } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: options.cwd ?? tmp,
      env: { ...process.env, API_URL: apiUrl, API_TOKEN, ...options.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString("utf8");
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString("utf8");
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
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

  it("submit --wait follows the session to success, phase by phase", async () => {
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

  it("show prints status, phases, calls and files; --json the API's view", async () => {
    const run = await cli(["show", id]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(id);
    expect(run.stdout).toMatch(/^status +succeeded$/m);
    expect(run.stdout).toMatch(/^ +✓ +requirements +Requirements refinement +succeeded +\d/m);
    expect(run.stdout).toMatch(
      /openai\/gpt-6-sol +succeeded +[\d,]+\+[\d,]+ tok +\$\d+\.\d{4} +test-host:\d+/,
    );
    expect(run.stdout).toMatch(/^ +README\.md +\d/m);

    const json = await cli(["show", id, "--json"]);
    expect(json.code).toBe(0);
    const view = JSON.parse(json.stdout) as {
      id: string;
      status: string;
      phases: unknown[];
      files: unknown[];
    };
    const expected = (await (await stack.request(`/api/sessions/${id}`)).json()) as typeof view;
    expect(view.id).toBe(id);
    expect(view.status).toBe("succeeded");
    expect(view.phases).toEqual(expected.phases);
    expect(view.files).toEqual(expected.files);
  });

  it("list prints a table of sessions and checks its arguments", async () => {
    const run = await cli(["list", "--limit", "5"]);
    expect(run.code).toBe(0);
    const [header, ...rows] = run.stdout.trim().split("\n");
    expect(header).toMatch(/^ID +STATUS +WORKFLOW +CREATED +TOKENS +COST +REQUEST$/);
    expect(rows.find((row) => row.startsWith(id))).toMatch(
      /succeeded +software-project .* Build a todo list app$/,
    );

    const empty = await cli(["list", "--status", "cancelled"]);
    expect(empty).toMatchObject({ code: 0, stdout: "no cancelled sessions\n" });

    const notNumber = await cli(["list", "--limit", "ten"]);
    expect(notNumber.code).toBe(2);
    expect(notNumber.stderr).toContain("'--limit <n>' argument 'ten' is invalid");

    const badStatus = await cli(["list", "--status", "done"]);
    expect(badStatus.code).toBe(1);
    expect(badStatus.stderr).toMatch(/^foundry: invalid query: .*status/);
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
    const named = await cli(["download", id, "-o", file]);
    expect(named.code).toBe(0);
    expect(await readFile(file)).toEqual(await readFile(join(dir, name)));
  });

  it("workflows list shows what the API offers", async () => {
    const run = await cli(["workflows", "list"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("software-project");
    expect(run.stdout).toContain("requirements → planning → comparison");
  });

  it("workflows validate checks a file offline", async () => {
    const offline = { API_URL: `http://127.0.0.1:${await closedPort()}` };
    const ok = await cli(["workflows", "validate", join(WORKFLOWS_DIR, "software-project.yaml")], {
      env: offline,
    });
    expect(ok).toMatchObject({ code: 0, stdout: "ok: software-project (9 phases)\n", stderr: "" });

    const broken = join(tmp, "broken.yaml");
    const text = await readFile(join(WORKFLOWS_DIR, "software-project.yaml"), "utf8");
    await writeFile(broken, text.replace("role: manager", "role: ghost"));
    const line = text.slice(0, text.indexOf("role: manager")).split("\n").length;
    const run = await cli(["workflows", "validate", broken], { env: offline });
    expect(run.code).toBe(1);
    expect(run.stdout).toBe("");
    expect(run.stderr).toMatch(
      new RegExp(`^${broken}:${line}:\\d+ phases\\[0\\]\\.tasks\\[0\\]\\.role: unknown role "ghost"`, "m"),
    );
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

  it("refuses a wrong token without printing it", async () => {
    const token = "wrong-token-5f0e1d2c3b4a";
    for (const run of [
      await cli(["list"], { env: { API_TOKEN: token } }),
      await cli(["show", id, "--token", token], { env: { API_TOKEN: "" } }),
    ]) {
      expect(run.code).toBe(1);
      expect(run.stderr).toBe("foundry: the API refused the token: set API_TOKEN or --token\n");
      expect(run.stdout + run.stderr).not.toContain(token);
    }
    const none = await cli(["list"], { env: { API_TOKEN: "" } });
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/none was given: set API_TOKEN or --token/);
  });

  it("says clearly when the API cannot be reached", async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const run = await cli(["list"], { env: { API_URL: url } });
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      `foundry: cannot reach the API at ${url}: connect ECONNREFUSED 127.0.0.1:${url.split(":")[2]}; is it running? (npm run dev)\n`,
    );
  });

  it("says so when the URL answers but is not a Foundry API", async () => {
    const run = await cli(["list"], { env: { API_URL: stack.sim.url } });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /^foundry: unexpected answer from .*\/api\/sessions: .*; is API_URL a Foundry API\?\n$/,
    );
  });

  it("passes on the API's message for an unknown session", async () => {
    const unknown = randomUUID();
    const run = await cli(["show", unknown]);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(`foundry: no session ${unknown}\n`);
    const download = await cli(["download", "not-an-id"]);
    expect(download.code).toBe(1);
    expect(download.stderr).toBe('foundry: no session "not-an-id"\n');
  });

  it("rejects unknown commands and options as usage errors", async () => {
    const command = await cli(["frobnicate"]);
    expect(command.code).toBe(2);
    expect(command.stderr).toContain("unknown command 'frobnicate'");
    const option = await cli(["show", id, "--jsno"]);
    expect(option.code).toBe(2);
    expect(option.stderr).toContain("unknown option '--jsno'");
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
