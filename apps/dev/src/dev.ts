// `npm run dev`: the API and a worker for every queue, on the same defaults as the demo (embedded
// Postgres in .data/ when DATABASE_URL is unset, the queues in it unless REDIS_URL is set, the
// simulator for providers without a key). Runs until Ctrl-C (exit 130) or SIGTERM (143); then stops
// everything it started. If the API or the worker dies, it stops the rest and exits 1.
//
// Once the API answers, it writes .data/dev.json (URL, token, pid; mode 0600) so that the CLI on
// this machine finds it without API_URL and API_TOKEN; the file goes when it stops.
import { relative } from "node:path";
import { removeDevEndpoint, writeDevEndpoint } from "@foundry/client";
import { freePort, installShutdownHandlers } from "@foundry/devstack";
import { WORKER_ENV, WORKER_NODE_FLAGS } from "@foundry/worker/node-flags";
import { type LocalStack, startLocalStack } from "./local-stack.ts";
import { API_MAIN, DATA_DIR, WORKER_MAIN } from "./paths.ts";
import { type AppProcess, startApp, waitUntilReady } from "./processes.ts";

const say = (line: string) => process.stdout.write(`${line}\n`);
const apps: AppProcess[] = [];
let starting: Promise<LocalStack> | undefined;
let stopping = false;

// Children first, then the services they use.
const handlers = installShutdownHandlers([
  // First: from now on no client should be sent here.
  () => removeDevEndpoint(DATA_DIR, process.pid),
  async () => {
    if (!stopping) say("\nstopping…");
    stopping = true;
    await Promise.all(apps.map((app) => app.stop()));
  },
  async () => {
    const stack = await starting?.catch(() => undefined);
    await stack?.stop();
  },
]);

/** Stops everything and exits 1, unless it is already stopping (a signal exits by itself). */
async function fail(message: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.error(`dev: ${message}`);
  await handlers.shutdown();
  process.exit(1);
}

async function start(): Promise<void> {
  starting = startLocalStack(process.env);
  const stack = await starting;
  const port = process.env.PORT ? Number(process.env.PORT) : await freePort();
  // Ctrl-C while the services started: start nothing more.
  if (stopping) return;
  say(stack.summary);
  const env: Record<string, string> = {
    ...stack.env,
    PORT: String(port),
    HOST: process.env.HOST ?? "127.0.0.1",
  };
  const url = `http://127.0.0.1:${port}`;
  const api = startApp("api", API_MAIN, [], env);
  // Two processes cannot listen on one METRICS_PORT: the worker takes the next one.
  const workerMetricsPort =
    env.METRICS_PORT && env.METRICS_PORT !== "0" ? Number(env.METRICS_PORT) + 1 : null;
  const workerEnv = {
    ...WORKER_ENV,
    ...env,
    ...(workerMetricsPort ? { METRICS_PORT: String(workerMetricsPort) } : {}),
  };
  apps.push(api, startApp("worker", WORKER_MAIN, ["--queues", "all"], workerEnv, WORKER_NODE_FLAGS));
  for (const app of apps) {
    void app.exited.then((how) => fail(`the ${app.name} process stopped (${how}):\n${app.tail()}`));
  }
  await waitUntilReady(api, url);
  if (stopping) return;
  const endpointFile = await writeDevEndpoint(DATA_DIR, {
    url,
    token: stack.apiToken,
    pid: process.pid,
    startedAt: new Date().toISOString(),
  });
  // Stopped while writing it: the stop function has already run.
  if (stopping) return removeDevEndpoint(DATA_DIR, process.pid);
  say(`api         ${url}   (Authorization: Bearer ${stack.apiToken})`);
  say(`dashboard   ${url}/   (log in with the token above)`);
  say(`bull board  ${url}/admin/queues`);
  if (stack.simulator) say(`simulator   ${stack.simulator.url}`);
  say(`logs        ${apps.map((app) => app.logFile).join(", ")}`);
  say(`cli         npx foundry --help   (finds this API through ${relative(process.cwd(), endpointFile)})`);
  say("Ctrl-C stops everything.");
}

try {
  await start();
} catch (error) {
  await fail((error as Error).message);
}
