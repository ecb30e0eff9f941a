// Runs one scenario from start to end: a fresh cluster (database, prefix, API, 3 workers), the
// scenario's sessions and fault, the wait for every session to end (bounded), the numbers, and the
// clean-up. Whatever happens, the shared services are left up and without faults for the next one.
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import { type Cluster, startCluster } from "./cluster.ts";
import { type CallRow, computeMetrics, type ScenarioMetrics, type SessionRow } from "./metrics.ts";
import { pick, type Scenario, type ScenarioContext } from "./scenario.ts";
import { MAX_RECORDED_REQUESTS, type Services } from "./services.ts";
import { createWorkload, type Workload } from "./workload.ts";

const POLL_MS = 500;

export interface ScenarioResult {
  name: string;
  metrics: ScenarioMetrics | null;
  /** A harness failure: the scenario could not be run or measured. */
  error: string | null;
  /** Facts a reader needs to judge the numbers: kills, crashes, refused submissions, … */
  notes: string[];
  durationMs: number;
}

export async function runScenario(
  scenario: Scenario,
  options: {
    services: Services;
    quick: boolean;
    seed: number;
    logDir: string;
    keep: boolean;
    /** Told of the cluster as soon as it runs, so that Ctrl-C can stop its processes. */
    onCluster?: (cluster: Cluster | null) => void;
  },
  log: (line: string) => void,
): Promise<ScenarioResult> {
  const started = Date.now();
  const { services, quick } = options;
  const clock = () => `${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s`;
  const say = (line: string) => log(`[${scenario.name} ${clock()}] ${line}`);
  const notes: string[] = [];
  let cluster: Cluster | null = null;
  try {
    services.resetSimulator();
    say(`${scenario.title}: starting the API and 3 workers`);
    cluster = await startCluster({
      services,
      scenario: scenario.name,
      logDir: options.logDir,
      env: scenario.env?.(services, quick) ?? {},
      say,
    });
    options.onCluster?.(cluster);
    const workload = createWorkload(cluster, scenario.name, services.workflowsDir);
    const { databaseUrl } = cluster;
    let faultEndedAt: number | null = null;
    const ctx: ScenarioContext = {
      quick,
      random: seededRandom(`${options.seed}:${scenario.name}`),
      services,
      cluster,
      workload,
      say,
      sleep: (ms) => sleep(ms),
      async untilCallsStarted(count, timeoutMs = 60_000) {
        const deadline = Date.now() + timeoutMs;
        let started = 0;
        while (Date.now() < deadline) {
          started = await countStartedCalls(databaseUrl).catch(() => started);
          if (started >= count) return;
          await sleep(200);
        }
        notes.push(
          `the fault began before ${count} calls had started (${started} after ${timeoutMs / 1000} s)`,
        );
      },
      faultStarted: (what) => say(`fault: ${what}`),
      faultEnded() {
        faultEndedAt = Date.now();
        say("fault over");
      },
    };
    say("ready");
    try {
      await scenario.run(ctx);
    } finally {
      await endFaults(services, say);
    }
    const faultEnd: number = faultEndedAt ?? Date.now();
    await workload.done();
    const allowance = pick(scenario.recoveryMs, quick);
    notes.push(`bound: the fault's end + ${allowance / 1000} s`);
    const bound = faultEnd + allowance;
    say(`waiting for every session to end (at most ${Math.round((bound - Date.now()) / 1000)} s)`);
    const sessions = await waitForSessions(cluster.databaseUrl, bound);
    const open = sessions.filter((session) => !isTerminal(session.status)).length;
    say(open === 0 ? "every session ended" : `${open} session(s) not ended at the bound`);
    await cluster.stopProcesses();
    const calls = await readCalls(cluster.databaseUrl);
    const requests = services.sim.requests();
    if (requests.length >= MAX_RECORDED_REQUESTS) {
      notes.push(`the simulator's recorder was full: request counts are a lower bound`);
    }
    const metrics = computeMetrics({
      sessions,
      calls,
      requests,
      kills: cluster.kills,
      faultEndedAt: faultEnd,
    });
    notes.push(...describe(cluster, workload, metrics, options.logDir));
    return { name: scenario.name, metrics, error: null, notes, durationMs: Date.now() - started };
  } catch (error) {
    say(`harness error: ${(error as Error).message}`);
    await endFaults(services, say).catch(() => {});
    return {
      name: scenario.name,
      metrics: null,
      error: (error as Error).message,
      notes: [...notes, `logs: ${options.logDir}`],
      durationMs: Date.now() - started,
    };
  } finally {
    await cluster?.stopProcesses().catch(() => {});
    await cluster?.dispose(options.keep).catch(() => {});
    options.onCluster?.(null);
  }
}

/** Brings back whatever a scenario may have left broken: the next scenario starts clean. */
async function endFaults(services: Services, say: (line: string) => void): Promise<void> {
  services.sim.clearFaults();
  if (!services.postgres.isUp()) {
    say("starting PostgreSQL again (the scenario left it down)");
    await services.postgres.start();
  }
  const redis = services.backend.redis;
  if (redis && !redis.isUp()) {
    say("starting Redis again (the scenario left it down)");
    await redis.start();
  }
}

function isTerminal(status: string): boolean {
  return status === "succeeded" || status === "failed" || status === "cancelled";
}

/** Polls the sessions until all have ended or `bound` passes; returns the last snapshot. */
async function waitForSessions(databaseUrl: string, bound: number): Promise<SessionRow[]> {
  let sessions: SessionRow[] = [];
  for (;;) {
    try {
      sessions = await readSessions(databaseUrl);
      if (sessions.every((session) => isTerminal(session.status))) return sessions;
    } catch (error) {
      if (Date.now() >= bound) throw new Error(`could not read the sessions: ${(error as Error).message}`);
    }
    if (Date.now() >= bound) return sessions;
    await sleep(POLL_MS);
  }
}

async function query<T>(databaseUrl: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 5_000 });
  client.on("error", () => {});
  await client.connect();
  try {
    return (await client.query(sql)).rows as T[];
  } finally {
    await client.end();
  }
}

async function countStartedCalls(databaseUrl: string): Promise<number> {
  const [row] = await query<{ started: string }>(
    databaseUrl,
    "SELECT count(*) AS started FROM model_calls WHERE attempts > 0",
  );
  return Number(row?.started ?? 0);
}

function readSessions(databaseUrl: string): Promise<SessionRow[]> {
  return query<SessionRow>(
    databaseUrl,
    `SELECT id, status, error, error_code AS "errorCode", created_at AS "createdAt", finished_at AS "finishedAt"
       FROM sessions`,
  );
}

function readCalls(databaseUrl: string): Promise<CallRow[]> {
  return query<CallRow>(
    databaseUrl,
    `SELECT idempotency_key AS "idempotencyKey", session_id AS "sessionId", provider, status, attempts,
            request->>'prompt' AS prompt, worker_pid AS "workerPid"
       FROM model_calls`,
  );
}

function describe(cluster: Cluster, workload: Workload, metrics: ScenarioMetrics, logDir: string): string[] {
  const notes: string[] = [];
  if (cluster.kills.length > 0) {
    const names = [...new Set(cluster.kills.map((kill) => kill.name))].join(", ");
    notes.push(`kill -9: ${cluster.kills.length} (${names})`);
  }
  for (const exit of cluster.unexpectedExits) {
    const last = exit.tail.split("\n").at(-1) ?? "";
    notes.push(
      `unexpected exit: ${exit.name} pid ${exit.pid} (${exit.how}); last line: ${last.slice(0, 160)}`,
    );
  }
  const refused = workload.submissions.filter((submission) => submission.error !== null);
  if (refused.length > 0) {
    const reasons = [...new Set(refused.map((submission) => submission.error))].slice(0, 3).join(" | ");
    notes.push(`submissions without a 202: ${refused.length} of ${workload.submissions.length} (${reasons})`);
  }
  if (workload.orphans.length > 0) notes.push(`sessions inserted without a flow: ${workload.orphans.length}`);
  if (workload.actions.length > 0) notes.push(`user actions: ${workload.actions.join("; ")}`);
  const { header, prompt, unmatched } = metrics.matched;
  notes.push(
    `requests matched to calls: ${header} by ${"x-foundry-request-id"}, ${prompt} by prompt, ${unmatched} unmatched`,
  );
  for (const line of metrics.lostDetails.slice(0, 5)) notes.push(`lost: ${line}`);
  notes.push(`logs: ${logDir}`);
  return notes;
}

/** mulberry32 over a string hash: a small, seedable generator (Math.random cannot be seeded). */
export function seededRandom(seed: string): () => number {
  let state = 0;
  for (const char of seed) state = (Math.imul(state, 31) + char.charCodeAt(0)) | 0;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
