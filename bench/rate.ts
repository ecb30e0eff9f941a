import { rm } from "node:fs/promises";
import { availableParallelism, cpus } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { installShutdownHandlers } from "@foundry/devstack";
import { parseRateLimit, type RateLimit } from "@foundry/engine";
import { type Simulator, startSimulator } from "@foundry/simulator";
import { workflowVariant } from "../test/support/workflows.ts";
import { cleanUp, defer, startBenchCluster } from "./cluster.ts";

const GENEROUS_LIMIT = "1000000/60s";
const BREAKER_COOLDOWN_MS = 10_000;

interface Options {
  replicas: number[];
  rpm: RateLimit;
  tpm: RateLimit;
  windows: number;
  sessions: number;
  concurrency: number;
  databaseUrl: string;
  redisUrl: string;
}

interface RunResult {
  replicas: number;
  requests: number;
  tokens: number;
  busiest: number;
  rateLimited: number;
  fallbackMs: number | null;
}

function usage(message: string): never {
  console.error(`bench:rate: ${message}`);
  console.error(
    "usage: node bench/rate.ts [--replicas 1,2,4] [--rpm 120/60s] [--tpm 400000/60s] [--windows 3] [--sessions N] [--concurrency 4]\n" +
      "env: DATABASE_URL (a database on a server where it may create databases), REDIS_URL",
  );
  process.exit(2);
}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      replicas: { type: "string", default: "1,2,4" },
      rpm: { type: "string", default: "120/60s" },
      tpm: { type: "string", default: "400000/60s" },
      windows: { type: "string", default: "3" },
      sessions: { type: "string" },
      concurrency: { type: "string", default: "4" },
      help: { type: "boolean", short: "h", default: false },
    },
    strict: true,
  });
  if (values.help) usage("achieved requests and tokens per window against cluster-wide limits");
  const positive = (name: string, text: string) => {
    const value = Number(text);
    if (!Number.isInteger(value) || value < 1) usage(`--${name}: expected a positive integer, got "${text}"`);
    return value;
  };
  const limit = (name: string, text: string, unit: "requests" | "tokens") => {
    try {
      return parseRateLimit(text, unit);
    } catch (error) {
      return usage(`--${name}: ${(error as Error).message}`);
    }
  };
  const rpm = limit("rpm", values.rpm, "requests");
  const tpm = limit("tpm", values.tpm, "tokens");
  const windows = positive("windows", values.windows);
  // Each session makes 14 calls, a few at a time: enough sessions that the backlog never runs dry.
  const sessions = values.sessions
    ? positive("sessions", values.sessions)
    : Math.ceil(((windows + 2) * rpm.max) / 14) + 10;
  return {
    replicas: values.replicas.split(",").map((text) => positive("replicas", text.trim())),
    rpm,
    tpm,
    windows,
    sessions,
    concurrency: positive("concurrency", values.concurrency),
    databaseUrl: process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres",
    redisUrl: process.env.REDIS_URL ?? "redis://127.0.0.1:6379",
  };
}

const log = (message: string) => process.stderr.write(`${message}\n`);
const text = (limit: RateLimit) => `${limit.max}/${limit.windowMs / 1000}s`;

/** Every role on anthropic first, openai second. */
function allOnAnthropic(workflow: Record<string, unknown>): Record<string, unknown> {
  const roles = workflow.roles as Record<string, { providers: unknown[] }>;
  for (const role of Object.values(roles)) {
    role.providers = [
      { provider: "anthropic", model: "claude-sonnet-5-5" },
      { provider: "openai", model: "gpt-6-sol" },
    ];
  }
  return workflow;
}

async function runOnce(options: Options, sim: Simulator, replicas: number): Promise<RunResult> {
  sim.clearFaults();
  const workflowsDir = await workflowVariant(allOnAnthropic);
  const removeWorkflows = defer(() => rm(workflowsDir, { recursive: true, force: true }));
  const cluster = await startBenchCluster({
    ...options,
    sim,
    replicas,
    workflowsDir,
    env: {
      ANTHROPIC_RATE_LIMIT: text(options.rpm),
      ANTHROPIC_TPM: text(options.tpm),
      OPENAI_RATE_LIMIT: GENEROUS_LIMIT,
      GEMINI_RATE_LIMIT: GENEROUS_LIMIT,
      BREAKER_COOLDOWN_MS: String(BREAKER_COOLDOWN_MS),
    },
  });
  const { db } = cluster;

  log(`N=${replicas}: submitting ${options.sessions} sessions`);
  sim.resetStats();
  await Promise.all(
    Array.from({ length: options.sessions }, (_, index) =>
      cluster.submit(`Build a todo list app (rate benchmark session ${index + 1})`),
    ),
  );
  // The first window fills from empty; measure from the next one on, in steady state.
  while ((sim.stats().providers.anthropic?.requests ?? 0) === 0) await sleep(20);
  await sleep(options.rpm.windowMs);
  sim.resetStats();
  const measureMs = options.windows * Math.max(options.rpm.windowMs, options.tpm.windowMs);
  for (let elapsed = 0; elapsed < measureMs; elapsed += 10_000) {
    await sleep(Math.min(10_000, measureMs - elapsed));
    const so = sim.stats().providers.anthropic;
    log(
      `  ${((elapsed + Math.min(10_000, measureMs - elapsed)) / 1000).toFixed(0)} s: ${so?.requests ?? 0} requests`,
    );
  }
  const stats = sim.stats({ windowMs: options.rpm.windowMs }).providers.anthropic;
  const windowsMeasured = measureMs / options.rpm.windowMs;
  const tokenWindows = measureMs / options.tpm.windowMs;
  const pending = await db.modelCall.count({ where: { status: { in: ["pending", "running"] } } });
  if (pending < replicas * options.concurrency) {
    log(`  warning: only ${pending} calls left at the end: the backlog ran dry, raise --sessions`);
  }

  // The primary goes down: how long until its calls are answered by the fallback?
  const down = Date.now();
  sim.injectFault({ provider: "anthropic", kind: "server_error", status: 503, times: null });
  let fallbackMs: number | null = null;
  while (Date.now() - down < 4 * BREAKER_COOLDOWN_MS) {
    const answered = await db.modelCall.findFirst({
      where: { provider: "openai", status: "succeeded", finishedAt: { gte: new Date(down) } },
      orderBy: { finishedAt: "asc" },
      select: { finishedAt: true },
    });
    if (answered?.finishedAt) {
      fallbackMs = answered.finishedAt.getTime() - down;
      break;
    }
    await sleep(50);
  }
  sim.clearFaults();

  const result: RunResult = {
    replicas,
    requests: (stats?.requests ?? 0) / windowsMeasured,
    tokens: ((stats?.tokens.input ?? 0) + (stats?.tokens.output ?? 0)) / tokenWindows,
    busiest: stats?.busiestWindow?.requests ?? 0,
    rateLimited: stats?.byStatus["429"] ?? 0,
    fallbackMs,
  };
  await cluster.stop();
  await removeWorkflows();
  return result;
}

function summary(options: Options, result: RunResult): string {
  const pct = (value: number, limit: number) => `${((value / limit) * 100).toFixed(1)}%`;
  return (
    `rate: ${result.replicas} workers, rpm ${Math.round(result.requests)}/${options.rpm.max} (${pct(result.requests, options.rpm.max)}), ` +
    `tpm ${Math.round(result.tokens)}/${options.tpm.max} (${pct(result.tokens, options.tpm.max)}), ` +
    `max in any window ${result.busiest}/${options.rpm.max}, 429s ${result.rateLimited}`
  );
}

const options = parseOptions();
const shutdown = installShutdownHandlers([cleanUp], { timeoutMs: 30_000 });
const sim = await startSimulator({
  limits: { anthropic: options.rpm },
  tpm: { anthropic: options.tpm },
  maxRecordedRequests: 10,
});
defer(() => sim.close());

const results: RunResult[] = [];
try {
  for (const replicas of options.replicas) results.push(await runOnce(options, sim, replicas));
} catch (error) {
  console.error(`bench:rate: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
} finally {
  await shutdown.shutdown();
  shutdown.dispose();
}
if (results.length > 0) {
  console.log(
    `Limits: anthropic ${text(options.rpm)} requests and ${text(options.tpm)} tokens, enforced by the workers and by the simulator; ` +
      `${options.windows} windows measured per run after one to warm up; worker concurrency ${options.concurrency} per process.`,
  );
  console.log(
    `Machine: ${availableParallelism()} cores (${cpus()[0]?.model.trim() ?? "unknown CPU"}), Node ${process.version}.`,
  );
  for (const result of results) {
    const took = result.fallbackMs === null ? "did not happen" : `${(result.fallbackMs / 1000).toFixed(1)} s`;
    console.log(
      `fallback: ${result.replicas} workers, anthropic down → first call answered by openai after ${took} (breaker cool-down ${BREAKER_COOLDOWN_MS / 1000} s)`,
    );
  }
  for (const result of results) console.log(summary(options, result));
}
if (results.some((result) => result.fallbackMs === null || result.rateLimited > 0)) process.exitCode = 1;
