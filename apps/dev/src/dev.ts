// `npm run dev`: the API and a worker for every queue, on the same defaults as the demo (embedded
// Postgres and a private redis-server in .data/ when DATABASE_URL / REDIS_URL are unset, the
// simulator for providers without a key). Runs until Ctrl-C (exit 130) or SIGTERM (143); then stops
// everything it started. If the API or the worker dies, it stops the rest and exits 1.
import { freePort, installShutdownHandlers } from "@foundry/devstack";
import { type LocalStack, startLocalStack } from "./local-stack.ts";
import { API_MAIN, WORKER_MAIN } from "./paths.ts";
import { type AppProcess, startApp, waitUntilReady } from "./processes.ts";

const say = (line: string) => process.stdout.write(`${line}\n`);
const apps: AppProcess[] = [];
let starting: Promise<LocalStack> | undefined;
let stopping = false;

// Children first, then the services they use.
const handlers = installShutdownHandlers([
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
  const env = { ...stack.env, PORT: String(port), HOST: process.env.HOST ?? "127.0.0.1" };
  const url = `http://127.0.0.1:${port}`;
  const api = startApp("api", API_MAIN, [], env);
  apps.push(api, startApp("worker", WORKER_MAIN, ["--queues", "all"], env));
  for (const app of apps) {
    void app.exited.then((how) => fail(`the ${app.name} process stopped (${how}):\n${app.tail()}`));
  }
  await waitUntilReady(api, url);
  say(`api         ${url}   (Authorization: Bearer ${stack.apiToken})`);
  say(`dashboard   ${url}/   (log in with the token above)`);
  say(`bull board  ${url}/admin/queues`);
  if (stack.simulator) say(`simulator   ${stack.simulator.url}`);
  say(`logs        ${apps.map((app) => app.logFile).join(", ")}`);
  say("Ctrl-C stops everything.");
}

try {
  await start();
} catch (error) {
  await fail((error as Error).message);
}
