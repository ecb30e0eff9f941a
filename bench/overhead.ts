// What the orchestration costs: the full system (API, journal, phases, Postgres) against a bare
// BullMQ worker making the same SDK call to the same instant simulator, in one run on one machine.
// See bench/README.md ("overhead.ts").
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtemp, readdir, readFile } from "node:fs/promises";
import { availableParallelism, cpus, loadavg, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { parseArgs, promisify } from "node:util";
import { installShutdownHandlers } from "@foundry/devstack";
import { jobOptions, openQueueConnection, type QueueBackendKind, type QueueConnection } from "@foundry/queue";
import { type Simulator, startSimulator } from "@foundry/simulator";
import { WORKER_ENV, WORKER_NODE_FLAGS } from "@foundry/worker/node-flags";
import type { FlowJob, Queue } from "bullmq";
import type { Redis } from "ioredis";
import { COMPILE_CACHE_ENV, deleteKeysWithPrefix } from "../test/support/cluster.ts";
import {
  BENCH_LAYOUTS,
  type BenchCluster,
  type BenchLayout,
  cleanUp,
  createScratchDatabase,
  defer,
  startBenchCluster,
} from "./cluster.ts";
import { type ProfileSummary, profilerClockMicros, summarizeCpuProfiles } from "./cpu-profile.ts";

const WORKFLOWS_DIR = fileURLToPath(new URL("../workflows", import.meta.url));
const BARE_WORKER = fileURLToPath(new URL("./bare-worker.ts", import.meta.url));
const BARE_QUEUE = "bare";
const ENDED = ["succeeded", "failed", "cancelled"];
const GENEROUS_LIMIT = "1000000/60s";
const INSTANT = { openai: 0, anthropic: 0, gemini: 0 };
/**
 * The workers' IDLE_TRIM_MS here (10 s by default), shorter so that the idle reading costs the run
 * little; no pause within the runs comes near it. The idle reading is taken this margin later.
 */
const IDLE_TRIM_MS = 2_000;
const IDLE_READ_MARGIN_MS = 1_000;

/** Where the bare worker's queue lives for one run, and the benchmark's handle on it. */
interface BareQueue {
  /** Environment that tells bench/bare-worker.ts where its queue lives. */
  env: Record<string, string>;
  /** The benchmark's own handle on the bare queue (to add jobs and read them back). */
  queue: Queue;
  /** The connection `queue` is on (the hand-off baseline's flows and worker run on it, in this process). */
  connection: QueueConnection;
  /** Closes the handle and removes what the run stored. */
  close(): Promise<void>;
}

/** The queue backends the benchmark runs on, through the same queue layer as the system. */
const BACKENDS = {
  redis: async (options: Options): Promise<BareQueue> => {
    const prefix = `bench-bare-${randomUUID()}`;
    const backend = { kind: "redis", url: options.redisUrl, prefix, cluster: false } as const;
    const connection = await openQueueConnection(backend, { role: "worker" });
    const queue = connection.queue(BARE_QUEUE);
    return {
      env: { BARE_BACKEND: "redis", REDIS_URL: options.redisUrl, BARE_PREFIX: prefix },
      queue,
      connection,
      async close() {
        await queue.close();
        await deleteKeysWithPrefix(connection.redis as Redis, prefix);
        await connection.close();
      },
    };
  },
  postgres: async (options: Options): Promise<BareQueue> => {
    const database = await createScratchDatabase(options.databaseUrl);
    const connection = await openQueueConnection({ kind: "postgres", url: database.url }, { role: "worker" });
    const queue = connection.queue(BARE_QUEUE);
    return {
      env: { BARE_BACKEND: "postgres", DATABASE_URL: database.url, BARE_PREFIX: "" },
      queue,
      connection,
      async close() {
        await queue.close();
        await connection.close();
        await database.drop();
      },
    };
  },
} satisfies Record<QueueBackendKind, (options: Options) => Promise<BareQueue>>;
type BackendName = keyof typeof BACKENDS;

interface Options {
  backend: BackendName;
  sessions: number;
  sequential: number;
  bareJobs: number;
  /** Sessions the workers have run in all before their memory is read (0: just the runs above). */
  soak: number;
  concurrency: number;
  /** How the provider queues are spread over processes (startBenchCluster). */
  layout: BenchLayout;
  profile: boolean;
  timeoutMs: number;
  databaseUrl: string;
  redisUrl: string;
}

function usage(message: string): never {
  console.error(`bench:overhead: ${message}`);
  console.error(
    "usage: node bench/overhead.ts [--backend redis|postgres] [--quick] [--sessions 30] [--sequential 10] [--bare-jobs 2000] [--soak 100] [--concurrency 8] [--layout shared|per-provider] [--profile] [--timeout 600]\n" +
      "env: DATABASE_URL (a database on a server where it may create databases), REDIS_URL",
  );
  process.exit(2);
}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      backend: { type: "string", default: "redis" },
      quick: { type: "boolean", default: false },
      sessions: { type: "string" },
      sequential: { type: "string" },
      "bare-jobs": { type: "string" },
      soak: { type: "string", default: "0" },
      concurrency: { type: "string", default: "8" },
      layout: { type: "string", default: "shared" },
      profile: { type: "boolean", default: false },
      timeout: { type: "string", default: "600" },
      help: { type: "boolean", short: "h", default: false },
    },
    strict: true,
  });
  if (values.help) usage("orchestration overhead against a bare BullMQ worker");
  if (!Object.hasOwn(BACKENDS, values.backend)) {
    usage(
      `--backend: unknown queue backend "${values.backend}"; accepted: ${Object.keys(BACKENDS).join(", ")}`,
    );
  }
  if (!(BENCH_LAYOUTS as readonly string[]).includes(values.layout)) {
    usage(`--layout: unknown layout "${values.layout}"; accepted: ${BENCH_LAYOUTS.join(", ")}`);
  }
  const positive = (name: string, text: string) => {
    const value = Number(text);
    if (!Number.isInteger(value) || value < 1) usage(`--${name}: expected a positive integer, got "${text}"`);
    return value;
  };
  const quick = values.quick;
  return {
    backend: values.backend as BackendName,
    sessions: positive("sessions", values.sessions ?? (quick ? "8" : "30")),
    sequential: positive("sequential", values.sequential ?? (quick ? "3" : "10")),
    bareJobs: positive("bare-jobs", values["bare-jobs"] ?? (quick ? "500" : "2000")),
    soak: values.soak === "0" ? 0 : positive("soak", values.soak),
    concurrency: positive("concurrency", values.concurrency),
    layout: values.layout as BenchLayout,
    profile: values.profile,
    timeoutMs: positive("timeout", values.timeout) * 1000,
    databaseUrl: process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres",
    redisUrl: process.env.REDIS_URL ?? "redis://127.0.0.1:6379",
  };
}

const log = (message: string) => process.stderr.write(`${message}\n`);

/** Nearest-rank percentile of `values` (not sorted in place). */
function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

interface Memory {
  rssMb: number;
  peakMb: number;
  anonMb: number;
  fileMb: number;
}

/**
 * Resident and peak resident memory of a process, in MB, and of its resident memory what is its own
 * (`anonMb`: heap, stacks, V8's spaces) and what maps files (`fileMb`: the node binary and the
 * libraries, whose pages every process of the machine shares). From /proc/<pid>/status; elsewhere
 * `ps`, with neither the peak nor the split.
 */
async function memoryOf(pid: number): Promise<Memory> {
  try {
    const status = await readFile(`/proc/${pid}/status`, "utf8");
    const mb = (field: string) =>
      Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? Number.NaN) / 1024;
    return { rssMb: mb("VmRSS"), peakMb: mb("VmHWM"), anonMb: mb("RssAnon"), fileMb: mb("RssFile") };
  } catch {
    const { stdout } = await promisify(execFile)("ps", ["-o", "rss=", "-p", String(pid)]);
    return {
      rssMb: Number(stdout.trim()) / 1024,
      peakMb: Number.NaN,
      anonMb: Number.NaN,
      fileMb: Number.NaN,
    };
  }
}

/** `174 MB (peak 183 MB; 131 MB its own, 43 MB mapped from files)`, without what is not known. */
function describeMemory(memory: Memory): string {
  const details = [
    ...(Number.isNaN(memory.peakMb) ? [] : [`peak ${fixed(memory.peakMb, 0)} MB`]),
    ...(Number.isNaN(memory.anonMb)
      ? []
      : [`${fixed(memory.anonMb, 0)} MB its own, ${fixed(memory.fileMb, 0)} MB mapped from files`]),
  ];
  return `${fixed(memory.rssMb, 0)} MB${details.length > 0 ? ` (${details.join("; ")})` : ""}`;
}

// 1. The bare baseline ---------------------------------------------------------------------------

interface BareResult {
  jobs: number;
  failed: number;
  wallMs: number;
  concurrency: number;
  memory: Memory;
  /** CPU seconds each part of the machine used during the measured jobs (null where /proc is missing). */
  cpu: CpuShare[] | null;
}

async function runBare(options: Options, sim: Simulator): Promise<BareResult> {
  const bare = await BACKENDS[options.backend](options);
  const { queue } = bare;
  const dropQueue = defer(() => bare.close());
  // As many calls at once as the full system's provider process allows (three queues).
  const concurrency = options.concurrency * 3;
  // Started as the workers are (same node flags and environment), so that RSS compares like with like.
  const child = spawn(process.execPath, [...WORKER_NODE_FLAGS, BARE_WORKER], {
    env: {
      ...COMPILE_CACHE_ENV,
      ...WORKER_ENV,
      PATH: process.env.PATH ?? "",
      ...sim.env(),
      ...bare.env,
      BARE_QUEUE,
      BARE_CONCURRENCY: String(concurrency),
    },
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const stopWorker = defer(() => stopChild(child));
  const deadline = Date.now() + 30_000;
  while ((await queue.getWorkersCount()) < 1) {
    if (child.exitCode !== null) throw new Error(`bare worker exited with ${child.exitCode}`);
    if (Date.now() > deadline) throw new Error("bare worker not ready after 30 s");
    await sleep(50);
  }

  const batch = async (count: number, tag: string) => {
    const started = Date.now();
    const jobs = await queue.addBulk(
      Array.from({ length: count }, (_, index) => ({
        name: "call",
        data: {},
        opts: { jobId: `${tag}-${index}` },
      })),
    );
    for (;;) {
      const counts = await queue.getJobCounts("completed", "failed");
      if ((counts.completed ?? 0) + (counts.failed ?? 0) >= count) break;
      if (Date.now() - started > options.timeoutMs) throw new Error(`bare: ${tag} did not finish in time`);
      await sleep(10);
    }
    const done = await Promise.all(jobs.map((job) => queue.getJob(job.id as string)));
    const failed = done.filter((job) => job?.failedReason).length;
    const lastFinished = Math.max(...done.map((job) => job?.finishedOn ?? Date.now()));
    await queue.clean(0, 0, "completed");
    await queue.clean(0, 0, "failed");
    return { failed, wallMs: lastFinished - started };
  };
  log(`bare: warming up, then ${options.bareJobs} jobs at concurrency ${concurrency}`);
  await batch(Math.min(100, options.bareJobs), "warm");
  const named = new Map([
    [child.pid as number, BARE_PROCESS],
    [process.pid, BENCHMARK_PROCESS],
  ]);
  const ticksBefore = await cpuTicks(named);
  const { failed, wallMs } = await batch(options.bareJobs, "run");
  const cpu = cpuBetween(ticksBefore, await cpuTicks(named));
  const memory = await memoryOf(child.pid as number);
  await stopWorker();
  await dropQueue();
  log(`bare: ${options.bareJobs} calls in ${(wallMs / 1000).toFixed(2)} s, ${failed} failed`);
  return { jobs: options.bareJobs, failed, wallMs, concurrency, memory, cpu };
}

/** Jobs in a bare chain: as many as a session has phases. */
const CHAIN_LENGTH = 9;

/**
 * BullMQ's own hand-off on the run's queue store, the floor under the system's: chains of
 * CHAIN_LENGTH no-op jobs added as one flow (each job the parent of the one before, as a session's
 * phases are, with a phase job's options), one chain at a time as the sequential sessions run, by a
 * worker in this process. A hand-off is one job's processor returning to the next one's starting
 * (performance.now, so below the millisecond the system's timestamps have). A first chain warms up.
 */
async function runBareHandOffs(options: Options): Promise<number[]> {
  const bare = await BACKENDS[options.backend](options);
  const dropQueue = defer(() => bare.close());
  const flows = bare.connection.flowProducer();
  const handOffs: number[] = [];
  const ended = new Map<string, number>();
  let chainDone: (() => void) | undefined;
  const worker = bare.connection.worker(
    BARE_QUEUE,
    async (job) => {
      const started = performance.now();
      const { id, previous, last } = job.data as { id: string; previous?: string; last: boolean };
      const before = previous === undefined ? undefined : ended.get(previous);
      if (before !== undefined) handOffs.push(started - before);
      ended.set(id, performance.now());
      if (last) chainDone?.();
      return null;
    },
    { concurrency: options.concurrency },
  );
  const opts = jobOptions("phase", options.backend);
  const chain = (tag: string): FlowJob => {
    let node: FlowJob | undefined;
    for (let index = 0; index < CHAIN_LENGTH; index++) {
      node = {
        name: `job-${index}`,
        queueName: BARE_QUEUE,
        data: {
          id: `${tag}-${index}`,
          ...(index > 0 && { previous: `${tag}-${index - 1}` }),
          last: index === CHAIN_LENGTH - 1,
        },
        opts,
        ...(node && { children: [node] }),
      };
    }
    return node as FlowJob;
  };
  try {
    for (let index = 0; index <= options.sequential; index++) {
      const done = new Promise<void>((resolve) => {
        chainDone = resolve;
      });
      if (index === 1) handOffs.length = 0;
      await flows.add(chain(`chain-${index}`));
      const timedOut = sleep(options.timeoutMs, "timeout" as const, { ref: false });
      if ((await Promise.race([done, timedOut])) === "timeout")
        throw new Error("bare: a chain did not finish in time");
    }
  } finally {
    await worker.close();
    await flows.close();
    await dropQueue();
  }
  log(`bare: ${handOffs.length} hand-offs in ${options.sequential} chains of ${CHAIN_LENGTH} jobs`);
  return handOffs;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  const done = await Promise.race([exited.then(() => true), sleep(10_000, false)]);
  if (!done) child.kill("SIGKILL");
}

// 2.–4. The full system ------------------------------------------------------------------------

interface LoadResult {
  sessions: number;
  succeeded: number;
  calls: number;
  wallMs: number;
  handOffs: number[];
  /** The profiler clock around the run, to cut the workers' profiles to it. */
  window: { fromMicros: number; toMicros: number };
  /** CPU seconds each part of the machine used during the run (null where /proc is missing). */
  cpu: CpuShare[] | null;
}

interface CpuShare {
  name: string;
  seconds: number;
}

/**
 * CPU time (user + system, in clock ticks) of every process on the machine, summed by what it is: the
 * named pids (the workers, this process with the API and the simulator) by their name, the others
 * by command (postgres, redis-server, git…). Null where there is no /proc.
 */
async function cpuTicks(named: ReadonlyMap<number, string>): Promise<Map<string, number> | null> {
  let pids: string[];
  try {
    pids = (await readdir("/proc")).filter((entry) => /^\d+$/.test(entry));
  } catch {
    return null;
  }
  const ticks = new Map<string, number>();
  await Promise.all(
    pids.map(async (pid) => {
      const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => null);
      if (!stat) return;
      const close = stat.lastIndexOf(")");
      const command = stat.slice(stat.indexOf("(") + 1, close);
      // Fields after the command: state is 3rd in stat(5), utime the 14th and stime the 15th.
      const fields = stat.slice(close + 2).split(" ");
      const used = Number(fields[11]) + Number(fields[12]);
      const name = named.get(Number(pid)) ?? command;
      ticks.set(name, (ticks.get(name) ?? 0) + used);
    }),
  );
  return ticks;
}

/** What each part used between two cpuTicks readings, in seconds, largest first (100 ticks a second, Linux's USER_HZ). */
function cpuBetween(
  before: Map<string, number> | null,
  after: Map<string, number> | null,
): CpuShare[] | null {
  if (!before || !after) return null;
  return [...after]
    .map(([name, ticks]) => ({ name, seconds: (ticks - (before.get(name) ?? 0)) / 100 }))
    .filter((share) => share.seconds >= 0.05)
    .sort((a, b) => b.seconds - a.seconds);
}

/** The processes whose CPU counts as the system's (the benchmark's, the workers', the stores'). */
const BARE_PROCESS = "bare worker";
const BENCHMARK_PROCESS = "benchmark (API, simulator)";
const STORE_COMMANDS = ["postgres", "redis-server"];

/**
 * Milliseconds of CPU per model call, in all and by process, over the processes that make up the
 * system under test (`names`, the benchmark's own process and the stores'; not the kernel's threads
 * nor anything else the machine runs). Unlike a rate, it does not move with how much CPU the machine
 * gives the run: time stolen by other tenants or spent waiting does not count.
 */
function cpuPerCall(
  cpu: CpuShare[] | null,
  calls: number,
  names: readonly string[],
): { total: number; parts: Array<{ name: string; ms: number }> } | null {
  if (!cpu || calls === 0) return null;
  const counted = new Set([...names, BENCHMARK_PROCESS, ...STORE_COMMANDS]);
  const parts = cpu
    .filter((share) => counted.has(share.name))
    .map((share) => ({ name: share.name, ms: (share.seconds * 1000) / calls }));
  return { total: parts.reduce((sum, part) => sum + part.ms, 0), parts };
}

async function waitForSessions(cluster: BenchCluster, ids: string[], timeoutMs: number, started: number) {
  let nextReport = started + 5_000;
  for (;;) {
    const sessions = await cluster.db.session.findMany({
      where: { id: { in: ids } },
      select: { status: true, finishedAt: true },
    });
    const ended = sessions.filter((session) => ENDED.includes(session.status)).length;
    if (ended === ids.length) return sessions;
    if (Date.now() - started > timeoutMs)
      throw new Error(`only ${ended}/${ids.length} sessions ended in time`);
    if (Date.now() >= nextReport) {
      nextReport += 5_000;
      log(`  ${((Date.now() - started) / 1000).toFixed(1)} s: ${ended}/${ids.length} sessions ended`);
    }
    await sleep(ids.length === 1 ? 10 : 100);
  }
}

/**
 * From the sessions' phase runs: each hand-off (a phase's start minus the previous phase's finish),
 * also by the phase it leads into, and each phase's durations (start to finish), by phase in workflow
 * order. A phase that makes model calls is started by the job that finished the phase before it; a
 * files or git phase by its own job, once BullMQ hands it over: `into` shows both kinds apart.
 */
async function phaseTimings(
  cluster: BenchCluster,
  ids: string[],
): Promise<{ handOffs: number[]; into: Map<string, number[]>; durations: Map<string, number[]> }> {
  const runs = await cluster.db.phaseRun.findMany({
    where: { sessionId: { in: ids } },
    select: { sessionId: true, phase: true, position: true, startedAt: true, finishedAt: true },
    orderBy: [{ sessionId: "asc" }, { position: "asc" }],
  });
  const handOffs: number[] = [];
  const into = new Map<string, number[]>();
  const durations = new Map<string, number[]>();
  for (const [index, run] of runs.entries()) {
    if (run.startedAt && run.finishedAt) {
      const list = durations.get(run.phase) ?? [];
      list.push(run.finishedAt.getTime() - run.startedAt.getTime());
      durations.set(run.phase, list);
    }
    const previous = runs[index - 1];
    if (previous?.sessionId !== run.sessionId || !previous?.finishedAt || !run.startedAt) continue;
    const handOff = run.startedAt.getTime() - previous.finishedAt.getTime();
    handOffs.push(handOff);
    const list = into.get(run.phase) ?? [];
    list.push(handOff);
    into.set(run.phase, list);
  }
  // Maps keep insertion order: the first session's phases, in its order (ORDER BY position).
  return { handOffs, into, durations };
}

async function runLoad(options: Options, cluster: BenchCluster, runId: string): Promise<LoadResult> {
  log(`full: submitting ${options.sessions} sessions at once`);
  const named = new Map(cluster.workers.map((worker) => [worker.pid, worker.name]));
  named.set(process.pid, BENCHMARK_PROCESS);
  const ticksBefore = await cpuTicks(named);
  const fromMicros = profilerClockMicros();
  const started = Date.now();
  const ids = await Promise.all(
    Array.from({ length: options.sessions }, (_, index) =>
      cluster.submit(`Build a todo list app (overhead ${runId}, session ${index + 1})`),
    ),
  );
  const sessions = await waitForSessions(cluster, ids, options.timeoutMs, started);
  const toMicros = profilerClockMicros();
  const cpu = cpuBetween(ticksBefore, await cpuTicks(named));
  const lastFinished = Math.max(...sessions.map((session) => session.finishedAt?.getTime() ?? Date.now()));
  const calls = await cluster.db.modelCall.count({ where: { sessionId: { in: ids }, status: "succeeded" } });
  const succeeded = sessions.filter((session) => session.status === "succeeded").length;
  const wallMs = lastFinished - started;
  log(`full: ${succeeded}/${ids.length} succeeded, ${calls} calls in ${(wallMs / 1000).toFixed(2)} s`);
  return {
    sessions: ids.length,
    succeeded,
    calls,
    wallMs,
    handOffs: (await phaseTimings(cluster, ids)).handOffs,
    window: { fromMicros, toMicros },
    cpu,
  };
}

interface SequentialResult {
  latencies: number[];
  succeeded: number;
  handOffs: number[];
  /** The hand-offs by the phase they lead into, in workflow order. */
  handOffsInto: Map<string, number[]>;
  /** Each phase's durations over the sequential sessions, in workflow order. */
  phaseMs: Map<string, number[]>;
  phases: number;
  calls: number;
}

async function runSequential(
  options: Options,
  cluster: BenchCluster,
  runId: string,
): Promise<SequentialResult> {
  log(`latency: ${options.sequential} sessions one after another`);
  const latencies: number[] = [];
  const ids: string[] = [];
  let succeeded = 0;
  for (let index = 0; index < options.sequential; index++) {
    const started = Date.now();
    const id = await cluster.submit(`Build a todo list app (overhead ${runId}, alone ${index + 1})`);
    ids.push(id);
    const [session] = await waitForSessions(cluster, [id], options.timeoutMs, started);
    if (session?.status === "succeeded") succeeded += 1;
    latencies.push((session?.finishedAt?.getTime() ?? Date.now()) - started);
  }
  const phases = await cluster.db.phaseRun.count({ where: { sessionId: ids[0] } });
  const calls = await cluster.db.modelCall.count({ where: { sessionId: ids[0], status: "succeeded" } });
  const timings = await phaseTimings(cluster, ids);
  return {
    latencies,
    succeeded,
    handOffs: timings.handOffs,
    handOffsInto: timings.into,
    phaseMs: timings.durations,
    phases,
    calls,
  };
}

/**
 * Submits more sessions, `--sessions` at a time, until the workers have run `--soak` in all (so
 * their memory is read after a known number of sessions). Returns how many they ran in all.
 */
async function soak(options: Options, cluster: BenchCluster, runId: string, ran: number): Promise<number> {
  let total = ran;
  if (options.soak > total) log(`soak: ${options.soak - total} more sessions before reading memory`);
  while (total < options.soak) {
    const count = Math.min(options.sessions, options.soak - total);
    const ids = await Promise.all(
      Array.from({ length: count }, (_, index) =>
        cluster.submit(`Build a todo list app (overhead ${runId}, soak ${total + index + 1})`),
      ),
    );
    const sessions = await waitForSessions(cluster, ids, options.timeoutMs, Date.now());
    const notSucceeded = sessions.filter((session) => session.status !== "succeeded").length;
    if (notSucceeded > 0) throw new Error(`soak: ${notSucceeded} of ${count} sessions did not succeed`);
    total += count;
  }
  return total;
}

// Report ---------------------------------------------------------------------------------------

interface Results {
  bare: BareResult;
  /** BullMQ's own hand-offs, in ms (runBareHandOffs). */
  bareHandOffs: number[];
  load: LoadResult;
  alone: SequentialResult;
  /** Each worker's memory after the runs, and its RSS once it gave memory back after IDLE_TRIM_MS. */
  workers: Array<{ name: string; idleRssMb: number } & Memory>;
  /** Sessions the workers had run when their memory was read. */
  ran: number;
}

/**
 * CPU per model call, ours and bare, and their ratio: the throughput ratio measured in CPU instead of
 * wall-clock time, which stays put when the machine gives the run less CPU (see cpuPerCall).
 */
function cpuRows(bare: BareResult, load: LoadResult, workers: Results["workers"]): string[] {
  const ours = cpuPerCall(
    load.cpu,
    load.calls,
    workers.map((worker) => worker.name),
  );
  const baseline = cpuPerCall(bare.cpu, bare.jobs, [BARE_PROCESS]);
  if (!ours || !baseline) return [];
  const parts = (cpu: NonNullable<typeof ours>) =>
    cpu.parts.map((part) => `${part.name} ${fixed(part.ms, 2)}`).join(", ");
  const row = (cells: string[]) => `| ${cells.join(" | ")} |`;
  return [
    row([
      "CPU per model call, bare",
      "ms by process: the bare worker, the simulator, the stores",
      `**${fixed(baseline.total, 2)} ms**: ${parts(baseline)}`,
    ]),
    row([
      "CPU per model call, sessions at once",
      "ms by process: the workers, the API and simulator, the stores",
      `**${fixed(ours.total, 2)} ms**: ${parts(ours)}`,
    ]),
    row(["bare / ours, in CPU per call", "", `**${fixed(baseline.total / ours.total, 3)}**`]),
  ];
}

const fixed = (value: number, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : "n/a");

function report(options: Options, results: Results): string {
  const { bare, bareHandOffs, load, alone, workers, ran } = results;
  const bareRate = bare.jobs / (bare.wallMs / 1000);
  const ours = load.calls / (load.wallMs / 1000);
  const perMinute = (load.succeeded / load.wallMs) * 60_000;
  const sessionP50 = percentile(alone.latencies, 50);
  const handOffP50 = percentile(alone.handOffs, 50);
  const handOffP99 = percentile(alone.handOffs, 99);
  const heaviest = workers.reduce((max, worker) => (worker.rssMb > max.rssMb ? worker : max));
  const row = (cells: string[]) => `| ${cells.join(" | ")} |`;
  const rows = [
    row(["measure", "run", "result"]),
    row(["---", "---", "---"]),
    row([
      "bare BullMQ + openai SDK",
      `${bare.jobs} jobs, 1 process, concurrency ${bare.concurrency}${bare.failed ? `, ${bare.failed} failed` : ""}`,
      `${fixed(bare.wallMs / 1000, 2)} s, **${fixed(bareRate)} calls/s**`,
    ]),
    row([
      "full system, sessions at once",
      `${load.succeeded}/${load.sessions} sessions succeeded, ${load.calls} calls`,
      `${fixed(load.wallMs / 1000, 2)} s, **${fixed(ours)} calls/s**, ${fixed(perMinute)} sessions/min`,
    ]),
    row(["ours / bare", "", `**${fixed(ours / bareRate, 3)}**`]),
    row([
      "CPU during the sessions at once",
      "CPU seconds by process (workers by name, others by command)",
      load.cpu
        ? load.cpu
            .slice(0, 7)
            .map((share) => `${share.name} ${fixed(share.seconds, 2)}`)
            .join(", ")
        : "n/a (no /proc)",
    ]),
    ...cpuRows(bare, load, workers),
    row([
      "one session, submit → succeeded",
      `${alone.succeeded}/${alone.latencies.length} sequential sessions (${alone.phases} phases, ${alone.calls} calls each)`,
      `p50 **${fixed(sessionP50, 0)} ms**, min ${fixed(Math.min(...alone.latencies), 0)} ms, max ${fixed(Math.max(...alone.latencies), 0)} ms`,
    ]),
    row([
      "phases of one session",
      "p50 of each phase over the sequential sessions, start → finish",
      [...alone.phaseMs].map(([phase, ms]) => `${phase} ${fixed(percentile(ms, 50), 0)} ms`).join(", "),
    ]),
    row([
      "phase hand-off, idle",
      `${alone.handOffs.length} hand-offs of the sequential sessions`,
      `p50 **${fixed(handOffP50, 0)} ms**, p99 **${fixed(handOffP99, 0)} ms**, max ${fixed(Math.max(...alone.handOffs), 0)} ms`,
    ]),
    row([
      "phase hand-off by the phase it leads into, idle",
      "p50 over the sequential sessions; files and git through BullMQ, the others started by the job before",
      [...alone.handOffsInto].map(([phase, ms]) => `${phase} ${fixed(percentile(ms, 50), 0)} ms`).join(", "),
    ]),
    row([
      "hand-off, bare BullMQ",
      `${bareHandOffs.length} hand-offs of ${options.sequential} flows of ${CHAIN_LENGTH} no-op jobs, one after another; processor returns → next starts`,
      `p50 ${fixed(percentile(bareHandOffs, 50), 2)} ms, p99 ${fixed(percentile(bareHandOffs, 99), 2)} ms`,
    ]),
    row([
      "phase hand-off, under load",
      `${load.handOffs.length} hand-offs of the sessions at once`,
      `p50 ${fixed(percentile(load.handOffs, 50), 0)} ms, p99 ${fixed(percentile(load.handOffs, 99), 0)} ms`,
    ]),
    ...workers.map((worker) =>
      row([
        `RSS, worker \`${worker.name}\``,
        `after the runs (${ran} sessions in all); then idle for ${(IDLE_TRIM_MS + IDLE_READ_MARGIN_MS) / 1000} s`,
        `${describeMemory(worker)}; idle ${fixed(worker.idleRssMb, 0)} MB`,
      ]),
    ),
    row(["RSS, bare worker", `after its ${bare.jobs} jobs`, describeMemory(bare.memory)]),
  ];
  const load1 = loadavg().map((value) => value.toFixed(2));
  const machine =
    `Backend ${options.backend}. Machine: ${availableParallelism()} cores (${cpus()[0]?.model.trim() ?? "unknown CPU"}), ` +
    `${Math.round(totalmem() / 2 ** 30)} GB, Node ${process.version}, ${process.platform}/${process.arch}; ` +
    `load average at the end ${load1.join(" ")}. Simulator instant (0 ms); ` +
    `${options.layout === "per-provider" ? "one process per provider queue" : "one process for the three provider queues"}, ` +
    `concurrency ${options.concurrency} per queue, orchestrator at its default.${options.profile ? " Workers ran under --cpu-prof." : ""}`;
  const last =
    `overhead: ours ${fixed(ours)} calls/s, bare ${fixed(bareRate)} calls/s, ratio ${fixed(ours / bareRate, 3)}; ` +
    `session p50 ${fixed(sessionP50, 0)} ms; hand-off p50 ${fixed(handOffP50, 0)} ms p99 ${fixed(handOffP99, 0)} ms; ` +
    `worker rss ${fixed(heaviest.rssMb, 0)} MB`;
  return [...rows, "", machine, last].join("\n");
}

function profileReport(name: string, summary: ProfileSummary): string {
  const pct = (entry: { share: number }) => `${(entry.share * 100).toFixed(1)}%`;
  const table = (title: string, entries: ProfileSummary["packages"], code = false) => [
    `| ${title} | self time |`,
    "| --- | --- |",
    ...entries
      .slice(0, 10)
      .map(
        (entry) => `| ${code ? `\`${entry.name.replaceAll("|", "\\|")}\`` : entry.name} | ${pct(entry)} |`,
      ),
    "",
  ];
  return [
    `CPU profile, ${name}: ${summary.samples} samples${summary.windowed ? " during the sessions-at-once run" : " (whole process)"}, ` +
      `idle ${(summary.idle * 100).toFixed(0)}%; self time as a share of the busy samples.`,
    "",
    ...table("package (Node's internals counted for the package that called them)", summary.owners),
    ...table("package of the frame itself", summary.packages),
    ...table("function", summary.functions, true),
  ].join("\n");
}

// Main -----------------------------------------------------------------------------------------

const options = parseOptions();
const shutdown = installShutdownHandlers([cleanUp], { timeoutMs: 30_000 });
const sim = await startSimulator({ latencyMs: INSTANT, maxRecordedRequests: 10 });
defer(() => sim.close());
const runId = randomUUID().slice(0, 8);

let output: string | undefined;
let failed = false;
try {
  const bare = await runBare(options, sim);
  const bareHandOffs = await runBareHandOffs(options);
  const profileDir = options.profile ? await mkdtemp(join(tmpdir(), "foundry-overhead-prof-")) : undefined;
  const cluster = await startBenchCluster({
    databaseUrl: options.databaseUrl,
    redisUrl: options.redisUrl,
    queueBackend: options.backend,
    sim,
    replicas: 1,
    concurrency: options.concurrency,
    layout: options.layout,
    workflowsDir: WORKFLOWS_DIR,
    env: {
      OPENAI_RATE_LIMIT: GENEROUS_LIMIT,
      ANTHROPIC_RATE_LIMIT: GENEROUS_LIMIT,
      GEMINI_RATE_LIMIT: GENEROUS_LIMIT,
      IDLE_TRIM_MS: String(IDLE_TRIM_MS),
      ...(profileDir ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${profileDir}` } : {}),
    },
  });
  // One session first, so that neither measured run pays for the workers' first compilations.
  log("full: one session to warm up");
  const warm = await cluster.submit(`Build a todo list app (overhead ${runId}, warm-up)`);
  await waitForSessions(cluster, [warm], options.timeoutMs, Date.now());
  const load = await runLoad(options, cluster, runId);
  const alone = await runSequential(options, cluster, runId);
  const ran = await soak(options, cluster, runId, 1 + load.sessions + alone.latencies.length);
  const afterRuns = await Promise.all(cluster.workers.map((worker) => memoryOf(worker.pid)));
  // Idle now: each worker gives memory back IDLE_TRIM_MS after its last job (apps/worker/src/idle-trim.ts).
  await sleep(IDLE_TRIM_MS + IDLE_READ_MARGIN_MS);
  const idle = await Promise.all(cluster.workers.map((worker) => memoryOf(worker.pid)));
  const workers = cluster.workers.map((worker, index) => ({
    name: worker.name,
    ...(afterRuns[index] as Memory),
    idleRssMb: (idle[index] as Memory).rssMb,
  }));
  await cluster.stop();
  failed = bare.failed > 0 || load.succeeded < load.sessions || alone.succeeded < alone.latencies.length;
  const parts: string[] = [];
  if (profileDir) {
    const files = (await readdir(profileDir)).filter((file) => file.endsWith(".cpuprofile"));
    log(`profiles: ${profileDir}`);
    for (const worker of cluster.workers) {
      const mine = files
        .filter((file) => file.includes(`.${worker.pid}.`))
        .map((file) => join(profileDir, file));
      if (mine.length === 0) {
        log(`profiles: none written by ${worker.name} (pid ${worker.pid})`);
        continue;
      }
      parts.push(profileReport(worker.name, await summarizeCpuProfiles(mine, load.window)));
    }
  }
  parts.push(report(options, { bare, bareHandOffs, load, alone, workers, ran }));
  output = parts.join("\n");
} catch (error) {
  console.error(`bench:overhead: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
} finally {
  await shutdown.shutdown();
  shutdown.dispose();
}
if (output) console.log(output);
if (failed) process.exitCode = 1;
