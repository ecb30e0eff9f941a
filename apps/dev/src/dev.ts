// `npm run dev`: the API and a worker for every queue, on the same defaults as the demo (embedded
// Postgres and a private redis-server in .data/ when DATABASE_URL / REDIS_URL are unset, the
// simulator for providers without a key). Runs until Ctrl-C; then stops everything it started.
import { freePort } from "@foundry/devstack";
import { type LocalStack, startLocalStack } from "./local-stack.ts";
import { API_MAIN, WORKER_MAIN } from "./paths.ts";
import { type AppProcess, startApp, waitUntilReady } from "./processes.ts";

const say = (line: string) => process.stdout.write(`${line}\n`);
let stack: LocalStack | null = null;
const apps: AppProcess[] = [];
let stopping: Promise<void> | null = null;
const shutdown = (code: number) => {
  stopping ??= (async () => {
    await Promise.all(apps.map((app) => app.stop()));
    await stack?.stop();
    process.exit(code);
  })();
  return stopping;
};
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.once(signal, () => {
    say(`\n${signal}: stopping…`);
    void shutdown(0);
  });
}

try {
  stack = await startLocalStack(process.env);
  say(stack.summary);
  const port = process.env.PORT ? Number(process.env.PORT) : await freePort();
  const env = { ...stack.env, PORT: String(port), HOST: process.env.HOST ?? "127.0.0.1" };
  const url = `http://127.0.0.1:${port}`;
  apps.push(startApp("api", API_MAIN, [], env), startApp("worker", WORKER_MAIN, ["--queues", "all"], env));
  await waitUntilReady(apps[0] as AppProcess, url);
  for (const app of apps) {
    void app.exited.then((how) => {
      if (stopping) return;
      console.error(`dev: the ${app.name} process stopped (${how}):\n${app.tail()}`);
      void shutdown(1);
    });
  }
  say(`api         ${url}   (Authorization: Bearer ${stack.apiToken})`);
  say(`bull board  ${url}/admin/queues   (log in with the token above)`);
  if (stack.simulator) say(`simulator   ${stack.simulator.url}`);
  say(`logs        ${apps.map((app) => app.logFile).join(", ")}`);
  say("Ctrl-C stops everything.");
} catch (error) {
  console.error(`dev: ${(error as Error).message}`);
  void shutdown(1);
}
