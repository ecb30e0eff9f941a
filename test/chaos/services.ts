// The services every scenario shares, started once per run and all on loopback: a private
// PostgreSQL the suite can stop and start on the same port and data, the queue backend
// (backends.ts) and the provider simulator with latency. Each scenario gets its
// own database (cloned from a migrated template) and its own BullMQ prefix.
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { migrate } from "@foundry/db";
import { startEmbeddedPostgres } from "@foundry/devstack";
import { type LatencySpec, type Simulator, startSimulator } from "@foundry/simulator";
import { WorkflowCatalog } from "@foundry/workflow";
import pg from "pg";
import { parse, stringify } from "yaml";
import { type BackendName, type QueueBackend, startBackend } from "./backends.ts";

const STOCK_WORKFLOWS = fileURLToPath(new URL("../../workflows", import.meta.url));
const WORKFLOW = "software-project";
const TEMPLATE = "chaos_template";
/** Latency of every simulated call, so that calls are in flight when a fault hits. */
export const SIM_LATENCY = { min: 200, max: 800 } satisfies LatencySpec;
/** The recorder's bound; a scenario that reaches it reports its counts as a lower bound. */
export const MAX_RECORDED_REQUESTS = 50_000;

/** The private PostgreSQL server. */
export interface PostgresControl {
  readonly port: number;
  isUp(): boolean;
  /** Fast shutdown: every connection is cut; clients get connection errors until start(). */
  stop(): Promise<void>;
  /** Starts it again on the same port and data directory. */
  start(): Promise<void>;
  /** URL of `database` on this server. */
  urlFor(database: string): string;
  /** A new database cloned from the migrated template; returns its name. */
  createDatabase(label: string): Promise<string>;
  dropDatabase(name: string): Promise<void>;
}

export interface Services {
  /** The run's directory (logs, data directories). */
  dataDir: string;
  postgres: PostgresControl;
  backend: QueueBackend;
  sim: Simulator;
  /** A copy of the stock workflows whose every prompt also carries the session's request (see README). */
  workflowsDir: string;
  summary: string;
  /** Puts the simulator back to its defaults (no faults, the standard latency, no recorded requests). */
  resetSimulator(): void;
  stop(): Promise<void>;
}

/**
 * Starts everything under `dataDir`. `stops` receives each stop function as soon as its service is
 * up, so that a failure half-way (or Ctrl-C) still stops what did start.
 */
export async function startServices(options: {
  dataDir: string;
  backend: BackendName;
  seed: number;
  log: (line: string) => void;
  stops: Array<() => Promise<void>>;
}): Promise<Services> {
  const { dataDir, log, stops } = options;
  const postgres = await startPostgres(join(dataDir, "postgres"), log);
  stops.push(() => postgres.stop());
  const backend = await startBackend(options.backend, { dataDir, log });
  stops.push(() => backend.stop());
  const latency = { openai: SIM_LATENCY, anthropic: SIM_LATENCY, gemini: SIM_LATENCY };
  const sim = await startSimulator({
    latencyMs: latency,
    seed: options.seed,
    maxRecordedRequests: MAX_RECORDED_REQUESTS,
  });
  stops.push(() => sim.close());
  const workflowsDir = writeTaggedWorkflows(join(dataDir, "workflows"));
  await WorkflowCatalog.load(workflowsDir);

  return {
    dataDir,
    postgres,
    backend,
    sim,
    workflowsDir,
    summary: `postgres: private PostgreSQL 127.0.0.1:${postgres.port} · ${backend.summary} · providers: simulator ${sim.url} (latency ${SIM_LATENCY.min}–${SIM_LATENCY.max} ms)`,
    resetSimulator() {
      sim.clearFaults();
      sim.configure({ latencyMs: latency });
      sim.clearRequests();
    },
    async stop() {
      await sim.close();
      await backend.stop();
      await postgres.stop();
    },
  };
}

async function startPostgres(dataDir: string, log: (line: string) => void): Promise<PostgresControl> {
  let server = await startEmbeddedPostgres({ dataDir, database: "postgres", log });
  const { port } = server;
  const adminUrl = server.url;
  let up = true;
  const urlFor = (database: string) => {
    const url = new URL(adminUrl);
    url.pathname = `/${encodeURIComponent(database)}`;
    return url.toString();
  };
  const admin = async <T>(use: (client: pg.Client) => Promise<T>): Promise<T> => {
    const client = new pg.Client({ connectionString: adminUrl });
    client.on("error", () => {});
    await client.connect();
    try {
      return await use(client);
    } finally {
      await client.end();
    }
  };
  await admin((client) => client.query(`CREATE DATABASE ${TEMPLATE}`));
  await migrate(urlFor(TEMPLATE));

  return {
    port,
    isUp: () => up,
    async stop() {
      up = false;
      await server.stop();
    },
    async start() {
      server = await startEmbeddedPostgres({ dataDir, port, database: "postgres", log });
      up = true;
    },
    urlFor,
    async createDatabase(label) {
      const name = `chaos_${label.replace(/[^a-z0-9]/g, "_")}_${randomBytes(3).toString("hex")}`;
      await admin((client) => client.query(`CREATE DATABASE ${name} TEMPLATE ${TEMPLATE}`));
      return name;
    },
    async dropDatabase(name) {
      await admin((client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}

/**
 * Writes the stock workflow with `{{ request }}` appended to every prompt. Sessions differ only in
 * their request, and the simulator's answers are scripted, so without this two sessions' later calls
 * send identical bodies and a provider request could not be told apart by its body alone (the
 * `x-foundry-request-id` header, when the engine sends it, is used first).
 */
function writeTaggedWorkflows(dir: string): string {
  mkdirSync(dir, { recursive: true });
  const file = `${WORKFLOW}.yaml`;
  const workflow = parse(readFileSync(join(STOCK_WORKFLOWS, file), "utf8")) as {
    phases: Array<{ prompt?: string; tasks?: Array<{ prompt?: string }> }>;
  };
  const tag = (prompt: string) => `${prompt.trimEnd()}\n\nChaos session: {{ request }}\n`;
  for (const phase of workflow.phases) {
    if (phase.prompt) phase.prompt = tag(phase.prompt);
    for (const task of phase.tasks ?? []) if (task.prompt) task.prompt = tag(task.prompt);
  }
  writeFileSync(join(dir, file), stringify(workflow));
  return dir;
}
