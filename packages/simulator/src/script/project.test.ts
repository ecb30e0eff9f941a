import { type ChildProcess, execFile, spawn } from "node:child_process";
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { scriptedAnswer } from "./index.ts";
import { implementationShape, testSuiteShape } from "./shapes.ts";

// The demo's promise: the three scripted file sets, written to an empty folder, make a project
// that passes its own tests and serves its page and API, with no npm install.

const run = promisify(execFile);
const PROMPT = "User request: Build a todo list app";

let dir: string;
let command: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "sim-project-"));
  const context = { provider: "openai" as const, prompt: PROMPT, planComparison: "conflicts" as const };
  const backend = implementationShape.parse(scriptedAnswer("backend_implementation", context));
  const frontend = implementationShape.parse(scriptedAnswer("frontend_implementation", context));
  const suite = testSuiteShape.parse(scriptedAnswer("test_suite", context));
  command = suite.command;
  for (const file of [...backend.files, ...frontend.files, ...suite.files]) {
    const path = join(dir, file.path);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, file.content);
  }
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("the scripted project", () => {
  test("passes its own tests with the test_suite command", async () => {
    expect(command).toBe("node --test");
    const { stdout } = await run(process.execPath, ["--test"], { cwd: dir, timeout: 60_000 });
    expect(stdout).toMatch(/ℹ pass [1-9]\d*/);
    expect(stdout).toMatch(/ℹ fail 0\b/);
  });

  test("starts with npm's start script and serves the page and the API", async () => {
    const server = spawn(process.execPath, ["backend/server.js"], {
      cwd: dir,
      env: { ...process.env, PORT: "0" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    try {
      const base = await listeningUrl(server);
      const page = await fetch(`${base}/`);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain("<h1>Todo List App</h1>");
      expect((await fetch(`${base}/app.js`)).status).toBe(200);

      const created = await fetch(`${base}/api/todos`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ title: "Try the demo" }),
      });
      expect(created.status).toBe(201);
      const list = (await (await fetch(`${base}/api/todos`)).json()) as { title: string }[];
      expect(list.map((todo) => todo.title)).toEqual(["Try the demo"]);
    } finally {
      server.kill("SIGTERM");
    }
  });

  test("fails its tests when the backend breaks the contract (the tests can fail)", async () => {
    const copy = await mkdtemp(join(tmpdir(), "sim-project-broken-"));
    try {
      await cp(dir, copy, { recursive: true });
      const app = join(copy, "backend/app.js");
      await writeFile(
        app,
        (await readFile(app, "utf8")).replace('req.method === "PATCH"', 'req.method === "PUT"'),
      );
      const error = await run(process.execPath, ["--test"], { cwd: copy, timeout: 60_000 }).catch(
        (e: unknown) => e,
      );
      expect((error as { code?: number }).code).toBe(1);
      expect((error as { stdout: string }).stdout).toMatch(/ℹ fail [1-9]/);
    } finally {
      await rm(copy, { recursive: true, force: true });
    }
  });
});

function listeningUrl(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let output = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      const match = /Listening on (http:\/\/\S+)/.exec(output);
      if (match) resolve(match[1]!);
    });
    child.once("exit", (code) => reject(new Error(`server exited with ${code}: ${output}`)));
  });
}
