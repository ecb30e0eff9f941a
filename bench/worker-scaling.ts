import { availableParallelism, cpus } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { installShutdownHandlers } from "@foundry/devstack";
import { QUEUE_BACKENDS, type QueueBackendKind } from "@foundry/queue";
import { type LatencySpec, type Simulator, startSimulator } from "@foundry/simulator";
import { cleanUp, defer, startBenchCluster } from "./cluster.ts";

const WORKFLOWS_DIR = fileURLToPath(new URL("../workflows", import.meta.url));
const ENDED = ["succeeded", "failed", "cancelled"];
// Far above anything a run reaches, so that only concurrency and latency set the pace.
const GENEROUS_LIMIT = "1000000/60s";

interface Options {
  replicas: number[];
  concurrency: number;
  sessions: number;
  latency: LatencySpec;
  rounds: number;
  timeoutMs: number;
  databaseUrl: string;
  redisUrl: string;
  /** Where the queues run (`--backend`). */
  queueBackend: QueueBackendKind;
}

interface RunResult {
  replicas: number;
  round: number;
  sessions: number;
  succeeded: number;
  calls: number;
  wallMs: number;
}

function usage(message: string): never {
  console.error(`bench: ${message}`);
  console.error(
    "usage: node bench/worker-scaling.ts [--replicas 1,3] [--concurrency 2] [--sessions 30] [--latency 300|200-400] [--rounds 1] [--timeout 600] [--backend redis|postgres]\n" +
      "env: DATABASE_URL (a database on a server where it may create databases), REDIS_URL",
  );
  process.exit(2);
}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      replicas: { type: "string", default: "1,3" },
      concurrency: { type: "string", default: "2" },
      sessions: { type: "string", default: "30" },
      latency: { type: "string", default: "300" },
      rounds: { type: "string", default: "1" },
      timeout: { type: "string", default: "600" },
      backend: { type: "string", default: "redis" },
      help: { type: "boolean", short: "h", default: false },
    },
    strict: true,
  });
  if (values.help) usage("sessions per minute with 1 and 3 worker processes");
  const positive = (name: string, text: string) => {
    const value = Number(text);
    if (!Number.isInteger(value) || value < 1) usage(`--${name}: expected a positive integer, got "${text}"`);
    return value;
  };
  if (!(QUEUE_BACKENDS as readonly string[]).includes(values.backend)) {
    usage(`--backend: expected ${QUEUE_BACKENDS.join(" or ")}, got "${values.backend}"`);
  }
  const range = /^(\d+)(?:-(\d+))?$/.exec(values.latency);
  if (!range) usage(`--latency: expected milliseconds such as 300 or 200-400, got "${values.latency}"`);
  const latency = range[2] ? { min: Number(range[1]), max: Number(range[2]) } : Number(range[1]);
  return {
    replicas: values.replicas.split(",").map((text) => positive("replicas", text.trim())),
    concurrency: positive("concurrency", values.concurrency),
    sessions: positive("sessions", values.sessions),
    latency,
    rounds: positive("rounds", values.rounds),
    timeoutMs: positive("timeout", values.timeout) * 1000,
    databaseUrl: process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres",
    redisUrl: process.env.REDIS_URL ?? "redis://127.0.0.1:6379",
    queueBackend: values.backend as QueueBackendKind,
  };
}

const log = (message: string) => process.stderr.write(`${message}\n`);

async function runOnce(
  options: Options,
  sim: Simulator,
  replicas: number,
  round: number,
): Promise<RunResult> {
  const cluster = await startBenchCluster({
    ...options,
    sim,
    replicas,
    workflowsDir: WORKFLOWS_DIR,
    env: {
      OPENAI_RATE_LIMIT: GENEROUS_LIMIT,
      ANTHROPIC_RATE_LIMIT: GENEROUS_LIMIT,
      GEMINI_RATE_LIMIT: GENEROUS_LIMIT,
    },
  });
  const { db } = cluster;

  log(`N=${replicas} round ${round}: submitting ${options.sessions} sessions`);
  const started = Date.now();
  const ids = await Promise.all(
    Array.from({ length: options.sessions }, (_, index) =>
      cluster.submit(`Build a todo list app (benchmark session ${index + 1})`),
    ),
  );

  let sessions: Array<{ status: string; finishedAt: Date | null }> = [];
  let nextReport = started + 5_000;
  for (;;) {
    sessions = await db.session.findMany({
      where: { id: { in: ids } },
      select: { status: true, finishedAt: true },
    });
    const ended = sessions.filter((session) => ENDED.includes(session.status)).length;
    if (ended === ids.length) break;
    if (Date.now() - started > options.timeoutMs) {
      throw new Error(
        `N=${replicas}: only ${ended}/${ids.length} sessions ended after ${options.timeoutMs} ms`,
      );
    }
    if (Date.now() >= nextReport) {
      nextReport += 5_000;
      const done = await db.modelCall.count({ where: { sessionId: { in: ids }, status: "succeeded" } });
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      log(`  ${seconds} s: ${done} calls done, ${ended}/${ids.length} sessions ended`);
    }
    await sleep(100);
  }
  const lastFinished = Math.max(...sessions.map((session) => session.finishedAt?.getTime() ?? Date.now()));
  const succeeded = sessions.filter((session) => session.status === "succeeded").length;
  const calls = await db.modelCall.count({ where: { sessionId: { in: ids }, status: "succeeded" } });
  const result = { replicas, round, sessions: ids.length, succeeded, calls, wallMs: lastFinished - started };
  log(`  done: ${succeeded}/${ids.length} succeeded, ${calls} calls, ${(result.wallMs / 1000).toFixed(1)} s`);

  await cluster.stop();
  return result;
}

function table(options: Options, results: readonly RunResult[]): string {
  const perMinute = (result: RunResult) => (result.succeeded / result.wallMs) * 60_000;
  const base = results.filter((result) => result.replicas === Math.min(...options.replicas));
  const baseline = base.reduce((sum, result) => sum + perMinute(result), 0) / base.length;
  const rows = results.map((result) => [
    String(result.replicas),
    String(options.concurrency),
    result.succeeded === result.sessions
      ? String(result.sessions)
      : `${result.succeeded}/${result.sessions} ok`,
    String(result.calls),
    `${(result.wallMs / 1000).toFixed(1)} s`,
    perMinute(result).toFixed(1),
    `${(perMinute(result) / baseline).toFixed(2)}×`,
  ]);
  const header = [
    "worker processes",
    "per-process concurrency",
    "sessions",
    "calls",
    "wall time",
    "sessions/min",
    `speed-up vs ${Math.min(...options.replicas)}`,
  ];
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  const latency =
    typeof options.latency === "number"
      ? `${options.latency} ms`
      : `${options.latency.min}–${options.latency.max} ms`;
  return [
    line(header),
    line(header.map(() => "---")),
    ...rows.map(line),
    "",
    `Each worker process consumes openai, anthropic and gemini at concurrency ${options.concurrency} per queue; ` +
      `plus 1 orchestrator process. Simulated latency ${latency} per call; rate limits ${GENEROUS_LIMIT} (never bind).`,
    `Queues on ${options.queueBackend}. Machine: ${availableParallelism()} cores (${cpus()[0]?.model.trim() ?? "unknown CPU"}), Node ${process.version}, ${process.platform}/${process.arch}.`,
  ].join("\n");
}

const options = parseOptions();
const shutdown = installShutdownHandlers([cleanUp], { timeoutMs: 30_000 });
const sim = await startSimulator({
  latencyMs: { openai: options.latency, anthropic: options.latency, gemini: options.latency },
  maxRecordedRequests: 10,
});
defer(() => sim.close());

const results: RunResult[] = [];
try {
  for (let round = 1; round <= options.rounds; round++) {
    for (const replicas of options.replicas) results.push(await runOnce(options, sim, replicas, round));
  }
} catch (error) {
  console.error(`bench: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
} finally {
  await shutdown.shutdown();
  shutdown.dispose();
}
if (results.length > 0) console.log(table(options, results));
if (results.some((result) => result.succeeded < result.sessions)) process.exitCode = 1;
