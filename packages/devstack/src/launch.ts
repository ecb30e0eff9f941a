import { setTimeout as delay } from "node:timers/promises";
import { ServerStartError } from "./errors.ts";
import { freePort } from "./free-port.ts";
import {
  type StopPlan,
  type SupervisedServer,
  type SupervisedServerOptions,
  spawnSupervised,
} from "./supervised-server.ts";

// Starts a server on the requested port or on a free one, and waits until it is ready. The free port
// can be taken between picking and binding, so a bind failure on a picked port is retried.

const ATTEMPTS_ON_PICKED_PORTS = 3;
const POLL_MS = 10;

export interface ReadinessProbe {
  port: number;
  /** Everything the server wrote since this attempt began. */
  output(): string;
}

export interface LaunchOptions {
  /** For messages, e.g. "postgres". */
  name: string;
  port: number | undefined;
  command: (port: number) => Omit<SupervisedServerOptions, "onLine">;
  isReady: (probe: ReadinessProbe) => boolean | Promise<boolean>;
  timeoutMs: number;
  stopPlan: StopPlan;
  log: (line: string) => void;
}

export async function launch(options: LaunchOptions): Promise<{ server: SupervisedServer; port: number }> {
  for (let attempt = 1; ; attempt++) {
    const port = options.port ?? (await freePort());
    // Start-up output only: a long-running server's log must not pile up in memory.
    let lines: string[] | undefined = [];
    const server = await spawnSupervised({
      ...options.command(port),
      onLine: (line) => {
        lines?.push(line);
        options.log(line);
      },
    });
    const probe: ReadinessProbe = { port, output: () => lines?.join("\n") ?? "" };
    const outcome = await waitUntilReady(server, probe, options);
    lines = undefined;
    if (outcome === "ready") return { server, port };
    if (outcome === "exited") await server.exited;
    const output = server.outputTail();
    if (outcome === "timeout") {
      await server.stop(options.stopPlan);
      throw new ServerStartError(
        `${options.name} did not become ready within ${options.timeoutMs} ms`,
        output,
      );
    }
    const portTaken = /address already in use/i.test(output);
    if (portTaken && options.port === undefined && attempt < ATTEMPTS_ON_PICKED_PORTS) {
      options.log(`port ${port} was taken before ${options.name} could bind it; trying another`);
      continue;
    }
    const reason = portTaken ? `port ${port} is already in use` : "it exited during start-up";
    throw new ServerStartError(`${options.name} did not start: ${reason}`, output);
  }
}

async function waitUntilReady(
  server: SupervisedServer,
  probe: ReadinessProbe,
  options: LaunchOptions,
): Promise<"ready" | "exited" | "timeout"> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    if (!server.isRunning()) return "exited";
    if (await options.isReady(probe)) return server.isRunning() ? "ready" : "exited";
    if (Date.now() >= deadline) return "timeout";
    await delay(POLL_MS);
  }
}
