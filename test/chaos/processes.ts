// The API and worker processes of one scenario, each kept running the way a process supervisor
// (docker compose's `restart: unless-stopped`, systemd) keeps them: a process that exits is started
// again after a second. Exits the suite caused (kill -9) are expected; any other exit is recorded as
// unexpected, with the end of its log, for the report.
import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, createWriteStream, openSync, readFileSync, type WriteStream } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { spawnWorkerProcess } from "../support/cluster.ts";

const API_MAIN = fileURLToPath(new URL("../../apps/api/src/main.ts", import.meta.url));
const RESTART_DELAY_MS = 1_000;
/** A process that keeps failing at start-up (e.g. while Postgres is down) is restarted less often. */
const MAX_RESTART_DELAY_MS = 8_000;
const HEALTHY_AFTER_MS = 10_000;

/** One start of a process: what spawnWorkerProcess returns, reduced to what the supervisor needs. */
interface Instance {
  child: ChildProcess;
  pid: number;
  exited: Promise<number | null>;
  stop(graceMs?: number): Promise<number | null>;
  /** The last lines it wrote, when they are not read from its pipes. */
  tail?: () => string;
}

export interface UnexpectedExit {
  name: string;
  pid: number;
  /** e.g. `exit code 1` or `signal SIGABRT`. */
  how: string;
  at: number;
  /** The last lines the process wrote. */
  tail: string;
}

export interface Kill {
  name: string;
  pid: number;
  at: number;
}

/** A process the suite keeps running: restarted when it exits, until stop(). */
export interface SupervisedProcess {
  readonly name: string;
  /** The current pid (0 while it is down between a kill and its restart). */
  pid(): number;
  isRunning(): boolean;
  /** SIGKILL now; it is restarted after `restartAfterMs` (the suite caused this exit: not unexpected). */
  kill9(restartAfterMs?: number): Kill | null;
  /** SIGTERM (a drain, bounded by the app), SIGKILL after `graceMs`; no restart afterwards. */
  stop(graceMs?: number): Promise<void>;
}

/** Told of every exit the suite did not cause, for progress lines and the report. */
export interface SupervisorEvents {
  onUnexpectedExit(exit: UnexpectedExit): void;
}

/** A worker process consuming every queue (`node apps/worker/src/main.ts --queues all`). */
export function superviseWorker(
  name: string,
  env: Record<string, string>,
  logDir: string,
  events: SupervisorEvents,
): SupervisedProcess {
  return supervise(name, logDir, events, (log) => {
    const worker = spawnWorkerProcess(name, ["--queues", "all"], env);
    teeOutput(worker.child, log);
    return worker;
  });
}

/**
 * The API process (`node apps/api/src/main.ts`) with exactly `env`. Its output goes straight to its
 * log file, as the launchers do (apps/dev): with a pipe, an API whose parent died by SIGKILL never
 * exits (pino's exit-time flushSync retries write(1) = EPIPE forever; see the chaos report).
 */
export function superviseApi(
  env: Record<string, string>,
  logDir: string,
  events: SupervisorEvents,
): SupervisedProcess {
  const logFile = join(logDir, "api.log");
  return supervise("api", logDir, events, () => {
    const fd = openSync(logFile, "a");
    // An IPC channel, as the launchers use: the API stops itself if the suite dies (@foundry/runtime).
    const child = spawn(process.execPath, [API_MAIN], { env, stdio: ["ignore", fd, fd, "ipc"] });
    closeSync(fd);
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    return {
      child,
      pid: child.pid as number,
      exited,
      tail: () => lastLines(logFile),
      async stop(graceMs = 10_000) {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill("SIGTERM");
          const done = await Promise.race([exited.then(() => true), sleep(graceMs, false, { ref: false })]);
          if (!done && child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
        }
        return exited;
      },
    };
  });
}

function supervise(
  name: string,
  logDir: string,
  events: SupervisorEvents,
  start: (log: WriteStream) => Instance,
): SupervisedProcess {
  const log = createWriteStream(join(logDir, `${name}.log`), { flags: "a" });
  let tail: string[] = [];
  log.on("error", () => {});
  const remember = (chunk: Buffer) => {
    tail = [...tail, ...chunk.toString("utf8").split("\n").filter(Boolean)].slice(-15);
  };
  let current: Instance | null = null;
  let stopped = false;
  let killedPid = 0;
  let restartTimer: NodeJS.Timeout | undefined;
  let pendingDelay = RESTART_DELAY_MS;
  let failures = 0;
  let stopping: Promise<void> | undefined;

  const launch = () => {
    if (stopped) return;
    const instance = start(log);
    instance.child.stdout?.on("data", remember);
    instance.child.stderr?.on("data", remember);
    current = instance;
    const startedAt = Date.now();
    log.write(`# ${new Date().toISOString()} started pid ${instance.pid}\n`);
    instance.child.once("exit", (code, signal) => {
      const how = signal ? `signal ${signal}` : `exit code ${code}`;
      log.write(`# ${new Date().toISOString()} pid ${instance.pid} exited (${how})\n`);
      if (current === instance) current = null;
      if (stopped) return;
      let delay = pendingDelay;
      if (instance.pid !== killedPid) {
        failures = Date.now() - startedAt > HEALTHY_AFTER_MS ? 1 : failures + 1;
        delay = Math.min(MAX_RESTART_DELAY_MS, RESTART_DELAY_MS * 2 ** (failures - 1));
        const last = instance.tail?.() ?? tail.join("\n");
        events.onUnexpectedExit({ name, pid: instance.pid, how, at: Date.now(), tail: last });
      }
      restartTimer = setTimeout(launch, delay);
    });
  };
  launch();

  return {
    name,
    pid: () => current?.pid ?? 0,
    isRunning: () => current !== null,
    kill9(restartAfterMs = RESTART_DELAY_MS) {
      const instance = current;
      if (!instance) return null;
      killedPid = instance.pid;
      pendingDelay = restartAfterMs;
      instance.child.kill("SIGKILL");
      return { name, pid: instance.pid, at: Date.now() };
    },
    stop(graceMs = 10_000) {
      stopping ??= (async () => {
        stopped = true;
        clearTimeout(restartTimer);
        await current?.stop(graceMs);
        await new Promise<void>((resolve) => log.end(() => resolve()));
      })();
      return stopping;
    },
  };
}

function lastLines(file: string, count = 15): string {
  try {
    return readFileSync(file, "utf8").trimEnd().split("\n").slice(-count).join("\n");
  } catch {
    return "";
  }
}

function teeOutput(child: ChildProcess, log: WriteStream): void {
  child.stdout?.on("data", (chunk: Buffer) => log.write(chunk));
  child.stderr?.on("data", (chunk: Buffer) => log.write(chunk));
}
