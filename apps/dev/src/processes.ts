import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, openSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { DATA_DIR } from "./paths.ts";

/** A child process of the launcher (the API or a worker), logging to `.data/logs/<name>.log`. */
export interface AppProcess {
  name: string;
  child: ChildProcess;
  logFile: string;
  /** Resolves with the exit code (or signal) once the process has exited. */
  exited: Promise<string>;
  /** SIGTERM, then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
  /** The last lines of its log, for error messages. */
  tail(lines?: number): string;
}

/**
 * Starts `node <main> ...args` with an IPC channel: if the launcher dies (even by SIGKILL), the
 * channel closes and the child shuts itself down (see @foundry/runtime's onShutdown). The child has
 * its own process group, so a Ctrl-C in the terminal reaches only the launcher, which stops its
 * children in order (one SIGTERM each, and a graceful drain) before the services they use.
 */
export function startApp(
  name: string,
  main: string,
  args: string[],
  env: Record<string, string>,
  nodeFlags: readonly string[] = [],
): AppProcess {
  const logs = join(DATA_DIR, "logs");
  mkdirSync(logs, { recursive: true });
  const logFile = join(logs, `${name}.log`);
  const fd = openSync(logFile, "a");
  const child = spawn(process.execPath, [...nodeFlags, main, ...args], {
    // Node's cache of compiled, type-stripped modules: a restart loads no TypeScript stripper.
    env: { NODE_COMPILE_CACHE: join(DATA_DIR, "compile-cache"), ...env },
    stdio: ["ignore", fd, fd, "ipc"],
    detached: true,
  });
  const exited = new Promise<string>((resolve) => {
    child.once("exit", (code, signal) => resolve(signal ?? `exit code ${code}`));
  });
  return {
    name,
    child,
    logFile,
    exited,
    async stop(graceMs = 15_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      // An unref'd timer: the grace period must not keep the launcher alive once the child is gone.
      const done = await Promise.race([exited.then(() => true), sleep(graceMs, false, { ref: false })]);
      if (!done) {
        child.kill("SIGKILL");
        await exited;
      }
    },
    tail(lines = 20) {
      try {
        return readFileSync(logFile, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
      } catch {
        return "";
      }
    },
  };
}

/** Waits until `GET <url>/readyz` answers 200, or the process exits, or the time is up. */
export async function waitUntilReady(app: AppProcess, url: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited: string | null = null;
  void app.exited.then((how) => {
    exited = how;
  });
  while (Date.now() < deadline) {
    if (exited) throw new Error(`${app.name} stopped (${exited}) before it was ready:\n${app.tail()}`);
    const ok = await fetch(`${url}/readyz`).then(
      (response) => response.ok,
      () => false,
    );
    if (ok) return;
    await sleep(100);
  }
  throw new Error(`${app.name} was not ready after ${timeoutMs} ms:\n${app.tail()}`);
}
