import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "./support/db.ts";
import { deleteKeysWithPrefix, hasRedis, redisUrl, uniquePrefix } from "./support/redis.ts";

// `npm run demo` as CI runs it: a child process that starts the API, a worker and the simulator and
// follows one session. Here on the run's Postgres and Redis (a fresh database, a prefix of its own) and a
// temporary workspace, so that it touches nothing else; its API and worker logs still go to .data/logs.

const DEMO = fileURLToPath(new URL("../apps/dev/src/demo.ts", import.meta.url));
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;
/** Variables of the test environment that would point the demo at something other than the simulator. */
const UNSET = [
  "OPENAI_API_KEY",
  "ANTHROPIC_API_KEY",
  "GEMINI_API_KEY",
  "GOOGLE_API_KEY",
  "OPENAI_BASE_URL",
  "ANTHROPIC_BASE_URL",
  "GEMINI_BASE_URL",
  "API_TOKEN",
  "SIM_LATENCY_MS",
];

interface Demo {
  child: ChildProcess;
  stdout: string;
  stderr: string;
  exited: Promise<number | null>;
}

let db: TestDatabase;
let workspaceDir: string;
const prefixes: string[] = [];
const demos: Demo[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  workspaceDir = await mkdtemp(join(tmpdir(), "foundry-demo-"));
});

// A demo a failed test left running is stopped as a user would (it stops its children itself).
afterEach(async () => {
  for (const demo of demos.splice(0)) {
    if (demo.child.exitCode === null && demo.child.signalCode === null) {
      demo.child.kill("SIGTERM");
      const done = await Promise.race([demo.exited.then(() => true), sleep(30_000, false)]);
      if (!done) demo.child.kill("SIGKILL");
    }
  }
});

afterAll(async () => {
  if (hasRedis()) for (const prefix of prefixes) await deleteKeysWithPrefix(prefix);
  await db?.drop();
  if (workspaceDir) await rm(workspaceDir, { recursive: true, force: true });
});

function startDemo(args: string[], env: Record<string, string> = {}): Demo {
  const prefix = uniquePrefix();
  prefixes.push(prefix);
  const childEnv: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: db.url,
    // The run's Redis under a prefix of its own, or (without Redis) the queues in the test database.
    ...(hasRedis() ? { REDIS_URL: redisUrl(), QUEUE_PREFIX: prefix } : { QUEUE_BACKEND: "postgres" }),
    WORKSPACE_DIR: workspaceDir,
  };
  for (const name of UNSET) delete childEnv[name];
  const child = spawn(process.execPath, [DEMO, ...args], {
    env: { ...childEnv, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const demo: Demo = {
    child,
    stdout: "",
    stderr: "",
    exited: new Promise((resolve) => child.once("close", (code) => resolve(code))),
  };
  child.stdout?.on("data", (chunk: Buffer) => {
    demo.stdout += chunk.toString("utf8");
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    demo.stderr += chunk.toString("utf8");
  });
  demos.push(demo);
  return demo;
}

/** Waits until the demo has printed `pattern` on stdout; fails if it exits first. */
async function waitForOutput(demo: Demo, pattern: RegExp, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pattern.test(demo.stdout)) {
    if (demo.child.exitCode !== null || demo.child.signalCode !== null || Date.now() > deadline) {
      throw new Error(`the demo did not print ${pattern}:\n${demo.stdout}\n${demo.stderr}`);
    }
    await sleep(50);
  }
}

/** The API and worker processes the demo started. */
function childrenOf(pid: number, pattern: string): number[] {
  try {
    return execFileSync("pgrep", ["-P", String(pid), "-f", pattern], { encoding: "utf8" })
      .trim()
      .split("\n")
      .map(Number);
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("npm run demo", () => {
  it("runs a session to success, prints it and stops what it started", async () => {
    const demo = startDemo(["Build a todo list app", "--timeout", "100"]);
    await waitForOutput(demo, /^session \S+ submitted/m);
    const children = childrenOf(demo.child.pid as number, "apps/(api|worker)/src/main.ts");
    expect(children).toHaveLength(2);

    expect(await demo.exited).toBe(0);
    expect(demo.stderr).toBe("");
    const id = new RegExp(`^session +(${UUID.source})$`, "m").exec(demo.stdout)?.[1] as string;
    expect(id).toBeDefined();
    expect(demo.stdout).toMatch(/^status +succeeded$/m);
    expect(demo.stdout).toContain("  ✓ Requirements refinement done");
    const project = join(workspaceDir, id);
    expect(demo.stdout).toContain(`project   ${project} (git repository`);
    expect(existsSync(join(project, ".git"))).toBe(true);
    expect(children.filter(isAlive)).toEqual([]);
  }, 120_000);

  it("fails at once, with the worker's log, when its worker dies mid-session", async () => {
    // Each model call takes 2 s: the session is still running when the worker is killed.
    const demo = startDemo(["Build a todo list app", "--timeout", "100"], { SIM_LATENCY_MS: "2000" });
    await waitForOutput(demo, /▸ Requirements refinement/);
    const pid = demo.child.pid as number;
    const [worker] = childrenOf(pid, "apps/worker/src/main.ts");
    const [api] = childrenOf(pid, "apps/api/src/main.ts");
    expect(worker).toBeGreaterThan(0);
    expect(api).toBeGreaterThan(0);
    process.kill(worker as number, "SIGKILL");

    expect(await demo.exited).toBe(1);
    expect(demo.stderr).toMatch(
      /^demo: the worker process stopped \(SIGKILL\) while the demo waited for session \S+ to end; the end of \S*worker\.log:\n/,
    );
    expect(demo.stdout).not.toMatch(/^status /m);
    expect(isAlive(api as number)).toBe(false);
  }, 120_000);

  it("gives up after --timeout seconds and stops what it started", async () => {
    const demo = startDemo(["Build a todo list app", "--timeout", "3"], { SIM_LATENCY_MS: "5000" });
    expect(await demo.exited).toBe(1);
    expect(demo.stderr).toMatch(/^demo: gave up after 3 s \(--timeout\) waiting for /);
    expect(demo.stdout).not.toMatch(/^status /m);
  }, 120_000);
});
