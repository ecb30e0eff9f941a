import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import type { Socket } from "node:net";
import { createInterface } from "node:readline";
import { signalProcess, waitForExit } from "./process-info.ts";

// The lifeline script without its comments, so that `ps` shows something readable.
const LIFELINE = readFileSync(new URL("./lifeline.sh", import.meta.url), "utf8")
  .split("\n")
  .filter((line) => line.trim() !== "" && !line.startsWith("#"))
  .join("\n");

const OUTPUT_TAIL_LINES = 40;

export interface SupervisedServerOptions {
  command: string;
  args: readonly string[];
  /** Signal the lifeline sends when this process goes away or `stop()` is called. */
  stopSignal: "INT" | "TERM";
  /** Run as this user and group (postgres refuses to run as root). */
  uid?: number;
  gid?: number;
  /** Receives each line the server writes to stdout or stderr. */
  onLine?: (line: string) => void;
}

export interface StopPlan {
  /** How long to wait after the stop signal before escalating. */
  graceMs: number;
  /** Signals sent one after another (waiting `graceMs / 2` after each) if the server is still running. */
  escalate: readonly NodeJS.Signals[];
}

/**
 * A server started through the lifeline script: it runs in its own session (a Ctrl-C in the terminal
 * reaches only this process, which can still use the server while it shuts down) and receives its stop
 * signal as soon as this process closes the lifeline, exits or is killed with SIGKILL. It does not keep
 * the event loop alive once started.
 */
export interface SupervisedServer {
  readonly pid: number;
  readonly shellPid: number;
  /** Resolves with the shell's exit code once the server has exited (128 + n for signal n). */
  readonly exited: Promise<number | null>;
  isRunning(): boolean;
  /** The last lines the server wrote, for error messages. */
  outputTail(): string;
  /** Stops the server and waits until it has exited. Safe to call more than once. */
  stop(plan: StopPlan): Promise<void>;
  /** Lets the event loop end while the server runs (the default after start) or holds it open. */
  hold(held: boolean): void;
}

/** Spawns `command` under the lifeline script and resolves once its pid is known (not once it is ready). */
export function spawnSupervised(options: SupervisedServerOptions): Promise<SupervisedServer> {
  const child = spawn(
    "/bin/sh",
    ["-c", LIFELINE, "devstack-lifeline", options.stopSignal, options.command, ...options.args],
    {
      detached: true,
      stdio: ["pipe", "pipe", "pipe"],
      ...(options.uid === undefined ? {} : { uid: options.uid }),
      ...(options.gid === undefined ? {} : { gid: options.gid }),
    },
  );
  child.stdin?.on("error", () => {});
  const tail: string[] = [];
  createInterface({ input: child.stderr! }).on("line", (line) => {
    tail.push(line);
    if (tail.length > OUTPUT_TAIL_LINES) tail.shift();
    options.onLine?.(line);
  });
  let running = true;
  // 'close' comes after the last output has been read; a leftover grandchild holding the pipes open must
  // not delay it for long.
  const exited = new Promise<number | null>((resolve) => {
    child.on("exit", (code, signal) => {
      running = false;
      child.stdin?.destroy();
      const status = code ?? (signal ? 128 : null);
      child.on("close", () => resolve(status));
      setTimeout(() => resolve(status), 1000).unref();
    });
  });

  return new Promise((resolve, reject) => {
    child.on("error", reject);
    createInterface({ input: child.stdout! }).once("line", (line) => {
      const pid = Number(line);
      if (!Number.isInteger(pid) || pid <= 0) {
        reject(new Error(`lifeline printed ${JSON.stringify(line)} instead of a pid`));
        return;
      }
      resolve(makeHandle(child, pid, exited, () => running, tail));
    });
    void exited.then(() => reject(new Error(`lifeline shell exited early:\n${tail.join("\n")}`)));
  });
}

function makeHandle(
  child: ChildProcess,
  pid: number,
  exited: Promise<number | null>,
  isRunning: () => boolean,
  tail: string[],
): SupervisedServer {
  const hold = (held: boolean) => {
    for (const handle of [child, child.stdin, child.stdout, child.stderr] as Array<
      ChildProcess | Socket | null
    >) {
      if (held) handle?.ref?.();
      else handle?.unref?.();
    }
  };
  let stopping: Promise<void> | undefined;
  const stop = (plan: StopPlan) => {
    stopping ??= (async () => {
      if (!isRunning()) return;
      hold(true);
      child.stdin?.end();
      if (await exitsWithin(exited, plan.graceMs)) return;
      for (const signal of plan.escalate) {
        signalProcess(pid, signal);
        if (await exitsWithin(exited, plan.graceMs / 2)) return;
      }
      signalProcess(pid, "SIGKILL");
      signalProcess(child.pid!, "SIGKILL");
      await waitForExit(pid, plan.graceMs);
      await exited;
    })();
    return stopping;
  };
  return {
    pid,
    shellPid: child.pid!,
    exited,
    isRunning,
    outputTail: () => tail.join("\n"),
    stop,
    hold,
  };
}

async function exitsWithin(exited: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([exited.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
