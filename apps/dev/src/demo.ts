// `npm run demo -- "Build a todo list app"`: one whole session, offline unless real provider keys
// are set. Starts what it needs (embedded Postgres, a private redis-server, the provider simulator,
// the API and a worker), prints progress as phases complete, and exits 0 only if the session succeeded.
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { freePort } from "@foundry/devstack";
import { type LocalStack, startLocalStack } from "./local-stack.ts";
import { API_MAIN, WORKER_MAIN } from "./paths.ts";
import { type AppProcess, startApp, waitUntilReady } from "./processes.ts";
import { ApiClient, type SessionEvent } from "./session-client.ts";

const USAGE = 'usage: npm run demo -- "<what to build>" [--workflow <name>]';

const started = performance.now();
const seconds = () => `${((performance.now() - started) / 1000).toFixed(1)} s`;
const say = (line: string) => process.stdout.write(`${line}\n`);

let args: ReturnType<typeof parseArgs>;
try {
  args = parseArgs({
    allowPositionals: true,
    options: { workflow: { type: "string" }, help: { type: "boolean", short: "h" } },
  });
} catch (error) {
  console.error(`demo: ${(error as Error).message}\n${USAGE}`);
  process.exit(2);
}
const request = args.positionals.join(" ").trim();
if (args.values.help || !request) {
  console.error(USAGE);
  process.exit(args.values.help ? 0 : 2);
}

let stack: LocalStack | null = null;
const apps: AppProcess[] = [];
let stopping: Promise<void> | null = null;
const shutdown = () => {
  stopping ??= (async () => {
    await Promise.all(apps.map((app) => app.stop()));
    await stack?.stop();
  })();
  return stopping;
};
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.once(signal, () => {
    say(`\n${signal}: stopping…`);
    void shutdown().then(() => process.exit(130));
  });
}

try {
  stack = await startLocalStack(process.env);
  say(stack.summary);
  const port = await freePort();
  const env = {
    ...stack.env,
    PORT: String(port),
    HOST: "127.0.0.1",
    LOG_LEVEL: process.env.LOG_LEVEL ?? "info",
  };
  const url = `http://127.0.0.1:${port}`;
  apps.push(startApp("api", API_MAIN, [], env), startApp("worker", WORKER_MAIN, ["--queues", "all"], env));
  await waitUntilReady(apps[0] as AppProcess, url);
  for (const app of apps) {
    void app.exited.then((how) => {
      if (!stopping) console.error(`demo: the ${app.name} process stopped (${how}):\n${app.tail()}`);
    });
  }

  const client = new ApiClient(url, stack.apiToken);
  const { id } = await client.submit({ request, workflow: args.values.workflow as string | undefined });
  say(`session ${id} submitted (${seconds()}): "${request}"`);
  await client.follow(id, (event) => {
    const line = describe(event);
    if (line) say(line);
  });

  const session = await client.session<SessionView>(id);
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
  process.exitCode = session.status === "succeeded" ? 0 : 1;
} catch (error) {
  console.error(`demo: ${(error as Error).message}`);
  process.exitCode = 1;
} finally {
  await shutdown();
}

interface SessionView {
  id: string;
  status: string;
  error: string | null;
  workspace: string | null;
  calls: unknown[];
  totals: { inputTokens: number; outputTokens: number; costUsd: number };
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
