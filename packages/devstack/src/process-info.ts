import { execFileSync } from "node:child_process";
import { readFileSync, readlinkSync } from "node:fs";
import { setTimeout as delay } from "node:timers/promises";

// Facts about other processes, from /proc on Linux and from `ps`/`lsof` elsewhere (macOS).
// Every function answers null when it cannot tell, never throws.

/** Whether `pid` is a live process. A zombie (exited, not yet reaped) counts as dead. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
  const state = procStatFields(pid)?.[0];
  return state !== "Z" && state !== "X";
}

/**
 * An opaque token that differs between two processes that had the same pid (the kernel's start time on
 * Linux, `ps -o lstart` elsewhere), or null when unknown.
 */
export function processStartTime(pid: number): string | null {
  const fields = procStatFields(pid);
  if (fields) return fields[19] ?? null;
  return run("ps", ["-o", "lstart=", "-p", String(pid)]);
}

/** The process's command line joined with spaces (after any process-title rewriting), or null. */
export function processCommandLine(pid: number): string | null {
  try {
    const raw = readFileSync(`/proc/${pid}/cmdline`, "utf8");
    return raw.split("\0").filter(Boolean).join(" ");
  } catch {
    return run("ps", ["-o", "command=", "-p", String(pid)]);
  }
}

/** The process's current working directory, or null. postgres and redis-server chdir to their data dir. */
export function processCwd(pid: number): string | null {
  try {
    return readlinkSync(`/proc/${pid}/cwd`);
  } catch {
    const out = run("lsof", ["-a", "-p", String(pid), "-d", "cwd", "-Fn"]);
    const line = out?.split("\n").find((l) => l.startsWith("n"));
    return line ? line.slice(1) : null;
  }
}

/** Polls until `pid` is gone; true if it exited within `timeoutMs`. */
export async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() >= deadline) return false;
    await delay(25);
  }
  return true;
}

/** Sends `signal` to `pid`, ignoring "no such process". */
export function signalProcess(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
  }
}

// Fields of /proc/<pid>/stat after "pid (comm)", so index 0 is the state and index 19 the start time.
function procStatFields(pid: number): string[] | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat
      .slice(stat.lastIndexOf(")") + 2)
      .trim()
      .split(" ");
  } catch {
    return null;
  }
}

function run(command: string, args: string[]): string | null {
  try {
    const out = execFileSync(command, args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    return out === "" ? null : out;
  } catch {
    return null;
  }
}
