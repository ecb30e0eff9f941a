// `npm run demo -- "Build a todo list app"`: one whole session, offline unless real provider keys
// are set. Starts what it needs (embedded Postgres, which also holds the queues, the provider simulator,
// the API and a worker), prints progress as phases complete, and exits 0 only if the session succeeded.
// It never waits forever (CI runs it): if the API or the worker dies it fails at once with the end of
// that process's log, and after --timeout seconds it gives up. Ctrl-C (or SIGTERM) stops everything
// it started and exits 130 (143).
import { relative } from "node:path";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { ApiClient, ApiRequestError, type SessionEvent } from "@foundry/client";
import { freePort, installShutdownHandlers } from "@foundry/devstack";
import { WORKER_ENV, WORKER_NODE_FLAGS } from "@foundry/worker/node-flags";
import { type LocalStack, startLocalStack } from "./local-stack.ts";
import { API_MAIN, WORKER_MAIN } from "./paths.ts";
import { type AppProcess, startApp, waitUntilReady } from "./processes.ts";

const USAGE = 'usage: npm run demo -- "<what to build>" [--workflow <name>] [--timeout <seconds>]';
const DEFAULT_TIMEOUT_S = 600;
// setTimeout's limit (2^31 - 1 ms).
const MAX_TIMEOUT_S = 2_147_483;

const started = performance.now();
const seconds = () => `${((performance.now() - started) / 1000).toFixed(1)} s`;
const say = (line: string) => process.stdout.write(`${line}\n`);

let options: { request: string; workflow: string | undefined; timeoutS: number };
try {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      workflow: { type: "string" },
      timeout: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.error(USAGE);
    process.exit(0);
  }
  const request = positionals.join(" ").trim();
  if (!request) throw new Error("say what to build");
  const timeoutS = values.timeout === undefined ? DEFAULT_TIMEOUT_S : Number(values.timeout);
  if (!(timeoutS > 0 && timeoutS <= MAX_TIMEOUT_S))
    throw new Error(`--timeout: expected seconds (more than 0), got "${values.timeout}"`);
  options = { request, workflow: values.workflow, timeoutS };
} catch (error) {
  console.error(`demo: ${(error as Error).message}\n${USAGE}`);
  process.exit(2);
}

const apps: AppProcess[] = [];
let starting: Promise<LocalStack> | undefined;
/** What the demo is waiting for, to say where it got stuck. */
let waitingFor = "the local services to start";
/** Aborted, with the reason, when the demo cannot go on: a child died, time ran out, or it is stopping. */
const abort = new AbortController();
/** The demo is stopping everything itself, and will exit with the session's outcome. */
let finishing = false;
/** A signal or a crash is stopping everything; installShutdownHandlers exits once that is done. */
let interrupted = false;

// Children first, then the services they use.
const handlers = installShutdownHandlers([
  async () => {
    if (!finishing) {
      interrupted = true;
      say("\nstopping…");
    }
    abort.abort(new Error("stopping"));
    await Promise.all(apps.map((app) => app.stop()));
  },
  async () => {
    const stack = await starting?.catch(() => undefined);
    await stack?.stop();
  },
]);

const deadline = setTimeout(() => {
  const logs = apps.map((app) => relative(process.cwd(), app.logFile)).join(", ");
  abort.abort(
    new Error(
      `gave up after ${options.timeoutS} s (--timeout) waiting for ${waitingFor}${logs ? `; logs: ${logs}` : ""}`,
    ),
  );
}, options.timeoutS * 1000);

const aborted = new Promise<never>((_, reject) => {
  abort.signal.addEventListener("abort", () => reject(abort.signal.reason), { once: true });
});

let exitCode = 1;
try {
  exitCode = await Promise.race([run(abort.signal), aborted]);
} catch (error) {
  if (!interrupted) console.error(`demo: ${await explain(error)}`);
}
if (!interrupted) {
  finishing = true;
  clearTimeout(deadline);
  await handlers.shutdown();
  process.exit(exitCode);
}

/** Starts everything, runs the session to its end and prints it; resolves with the exit code. */
async function run(signal: AbortSignal): Promise<number> {
  starting = startLocalStack(process.env);
  const stack = await starting;
  const port = await freePort();
  // Too late (the deadline, or Ctrl-C while the services started): start nothing more.
  signal.throwIfAborted();
  say(stack.summary);
  const env = {
    ...stack.env,
    PORT: String(port),
    HOST: "127.0.0.1",
    LOG_LEVEL: process.env.LOG_LEVEL ?? "info",
  };
  const url = `http://127.0.0.1:${port}`;
  const api = startApp("api", API_MAIN, [], env);
  apps.push(
    api,
    startApp("worker", WORKER_MAIN, ["--queues", "all"], { ...WORKER_ENV, ...env }, WORKER_NODE_FLAGS),
  );
  for (const app of apps) {
    void app.exited.then((how) => {
      const log = relative(process.cwd(), app.logFile);
      abort.abort(
        new Error(
          `the ${app.name} process stopped (${how}) while the demo waited for ${waitingFor}; the end of ${log}:\n${app.tail()}`,
        ),
      );
    });
  }
  waitingFor = "the API to be ready";
  await waitUntilReady(api, url);

  const client = new ApiClient({ url, token: stack.apiToken });
  waitingFor = "the API to accept the session";
  const { id } = await client.submit({ request: options.request, workflow: options.workflow }, { signal });
  say(`session ${id} submitted (${seconds()}): "${options.request}"`);
  waitingFor = `session ${id} to end`;
  await client.follow(
    id,
    (event) => {
      const line = describe(event);
      if (line) say(line);
    },
    { signal },
  );

  const session = await client.session(id, { signal });
  say("");
  say(`session   ${session.id}`);
  say(`status    ${session.status}${session.error ? ` — ${session.error}` : ""}`);
  if (session.workspace)
    say(
      `project   ${session.workspace} (git repository; run its tests with: cd ${session.workspace} && npm test)`,
    );
  say(
    `usage     ${session.calls.length} model calls · ${session.totals.inputTokens} input + ${session.totals.outputTokens} output tokens · $${session.totals.costUsd.toFixed(4)}`,
  );
  say(`time      ${seconds()}`);
  return session.status === "succeeded" ? 0 : 1;
}

/** The message for a failed run: why the demo was aborted, if it was, else the error itself. */
async function explain(error: unknown): Promise<string> {
  // When the API dies, a refused request can arrive before the news of its exit: wait a moment for it.
  if (!abort.signal.aborted && error instanceof ApiRequestError && error.code === "UNREACHABLE") {
    await Promise.race([...apps.map((app) => app.exited), sleep(1_000)]);
  }
  const reason: unknown = abort.signal.aborted ? abort.signal.reason : error;
  return reason instanceof Error ? reason.message : String(reason);
}

function describe(event: SessionEvent): string | null {
  switch (event.type) {
    case "phase.started":
      return `  ▸ ${event.message}`;
    case "call.succeeded":
      return `      ${event.message}`;
    case "call.retrying":
    case "provider.rate_limited":
      return `      ↻ ${event.message}`;
    case "phase.skipped":
      return `  ↷ ${event.message}`;
    case "phase.succeeded":
      return `  ✓ ${event.message} (${seconds()})`;
    case "files.written":
    case "git.committed":
    case "git.published":
      return `      ${event.message}`;
    case "file.rejected":
    case "call.failed":
      return `      ✗ ${event.message}`;
    case "session.failed":
      return `  ✗ session failed: ${event.message}`;
    default:
      return null;
  }
}
