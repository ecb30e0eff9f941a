import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createAdaptorServer } from "@hono/node-server";
import { parseFaultSpec, parseStatsOptions } from "./options.ts";
import { createApp } from "./server.ts";
import { SimState } from "./state.ts";
import type { Simulator, SimulatorOptions } from "./types.ts";

/**
 * Starts the provider simulator and resolves once it listens.
 * @example
 * const sim = await startSimulator({ limits: { openai: { max: 60, windowMs: 60_000 } } });
 * const openai = new OpenAI({ baseURL: sim.env().OPENAI_BASE_URL, apiKey: sim.env().OPENAI_API_KEY, maxRetries: 0 });
 * // …
 * await sim.close();
 */
export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const state = new SimState(options);
  const app = createApp(state);
  const server = createAdaptorServer({ fetch: app.fetch }) as Server;
  const host = options.host ?? "127.0.0.1";

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
  let closed: Promise<void> | null = null;

  return {
    url,
    env: () => ({
      OPENAI_BASE_URL: `${url}/openai/v1`,
      OPENAI_API_KEY: state.keys.openai ?? "sim-any-key",
      ANTHROPIC_BASE_URL: `${url}/anthropic`,
      ANTHROPIC_API_KEY: state.keys.anthropic ?? "sim-any-key",
      GEMINI_BASE_URL: `${url}/gemini`,
      GEMINI_API_KEY: state.keys.gemini ?? "sim-any-key",
    }),
    requests: (filter) => state.recorder.list(filter),
    clearRequests: () => state.recorder.clear(),
    stats: (options = {}) => state.statsSnapshot(parseStatsOptions(options).windowMs),
    resetStats: () => state.stats.reset(),
    injectFault: (fault) => state.faults.add(parseFaultSpec(fault)),
    clearFaults: () => state.faults.clear(),
    configure: (patch) => state.configure(patch),
    close() {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Ends keep-alive and hanging connections, which server.close() alone would wait for.
        server.closeAllConnections();
        state.closing.abort();
      });
      return closed;
    },
  };
}
