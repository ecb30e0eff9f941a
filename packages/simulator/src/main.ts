#!/usr/bin/env node
// `node packages/simulator/src/main.ts`: runs the provider simulator until SIGINT/SIGTERM.
// stdout carries only the KEY=value lines of env() (for `eval` or a .env file); logs go to stderr.
import { parseSimEnv } from "./env-config.ts";
import { startSimulator } from "./simulator.ts";

const config = parseSimEnv(process.env);
if (!config.ok) {
  process.stderr.write(`foundry-sim: ${config.error}\n`);
  process.exit(1);
}

const log = (level: "info" | "warn", message: string) => {
  if (level === "warn" || config.logRequests)
    process.stderr.write(`[sim] ${level === "warn" ? "warning: " : ""}${message}\n`);
};

let sim: Awaited<ReturnType<typeof startSimulator>>;
try {
  sim = await startSimulator({ ...config.options, log });
} catch (error) {
  const code = (error as NodeJS.ErrnoException).code;
  const reason =
    code === "EADDRINUSE" ? "is in use" : code === "EADDRNOTAVAIL" ? "is not available" : String(error);
  process.stderr.write(
    `foundry-sim: cannot listen on SIM_HOST=${config.options.host} SIM_PORT=${config.options.port}: ${reason}\n`,
  );
  process.exit(1);
}

for (const [key, value] of Object.entries(sim.env())) process.stdout.write(`${key}=${value}\n`);
process.stderr.write(`foundry-sim listening on ${sim.url} (admin API at ${sim.url}/_sim)\n`);

let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`foundry-sim: ${signal}, closing\n`);
    sim.close().then(() => process.exit(0));
  });
}
