import { readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DataDirInUseError } from "./errors.ts";
import {
  isAlive,
  processCommandLine,
  processCwd,
  processStartTime,
  signalProcess,
  waitForExit,
} from "./process-info.ts";

// Recovery from a previous run that did not stop its server: the owner was killed with SIGKILL and its
// lifeline shell too (so the server is still running), or the machine rebooted (so the server's pidfile
// names a pid that is gone or now belongs to an unrelated process).
//
// Each data dir records who owns its running server in OWNER_FILE. A server whose owner is alive is in use
// and is left alone (DataDirInUseError); one whose owner is gone is an orphan and is stopped.

const OWNER_FILE = "devstack-owner.json";

export interface StaleServerCheck {
  dataDir: string;
  /** The pidfile the server itself writes in the data dir. */
  pidFile: string;
  /** Parses the pidfile's text. */
  parsePid: (text: string) => number | null;
  /** A word the server's command line contains, e.g. "postgres" or "redis-server". */
  commandName: string;
  /** First signal, then escalation signals, each after `graceMs`; SIGKILL comes last. */
  signals: readonly NodeJS.Signals[];
  graceMs: number;
  /**
   * postgres checks a leftover postmaster.pid itself (it also verifies that no old backend still uses the
   * shared memory), so the file is only removed when its pid now names an unrelated live process.
   */
  keepPidFileOfExitedServer: boolean;
  log: (line: string) => void;
}

/** Makes the data dir free for a new server, stopping an orphaned one if needed. */
export async function reclaimDataDir(check: StaleServerCheck): Promise<void> {
  const pid = readPid(check);
  if (pid === null) return;
  if (!isAlive(pid)) {
    if (!check.keepPidFileOfExitedServer || pidExists(pid)) rmSync(check.pidFile, { force: true });
    removeOwnerFile(check.dataDir);
    return;
  }
  if (!isServerOf(pid, check)) {
    check.log(`${check.pidFile} names pid ${pid}, which is now another program: removing the stale pidfile`);
    rmSync(check.pidFile, { force: true });
    removeOwnerFile(check.dataDir);
    return;
  }
  const owner = readOwner(check.dataDir);
  if (owner && owner.serverPid === pid && ownerAlive(owner)) {
    throw new DataDirInUseError(check.dataDir, owner.ownerPid, pid);
  }
  check.log(`stopping ${check.commandName} (pid ${pid}) left running in ${check.dataDir} by a previous run`);
  for (const signal of [...check.signals, "SIGKILL" as const]) {
    signalProcess(pid, signal);
    if (await waitForExit(pid, check.graceMs)) break;
  }
  if (!check.keepPidFileOfExitedServer) rmSync(check.pidFile, { force: true });
  removeOwnerFile(check.dataDir);
}

/** Records this process as the owner of the server now running in `dataDir`. */
export function writeOwnerFile(dataDir: string, serverPid: number): void {
  const owner: Owner = { ownerPid: process.pid, ownerStartTime: processStartTime(process.pid), serverPid };
  writeFileSync(join(dataDir, OWNER_FILE), `${JSON.stringify(owner)}\n`, { mode: 0o600 });
}

export function removeOwnerFile(dataDir: string): void {
  rmSync(join(dataDir, OWNER_FILE), { force: true });
}

interface Owner {
  ownerPid: number;
  ownerStartTime: string | null;
  serverPid: number;
}

function readOwner(dataDir: string): Owner | null {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(join(dataDir, OWNER_FILE), "utf8"));
  } catch {
    return null;
  }
  if (typeof value !== "object" || value === null) return null;
  const { ownerPid, ownerStartTime, serverPid } = value as Record<string, unknown>;
  if (!Number.isInteger(ownerPid) || !Number.isInteger(serverPid)) return null;
  if (ownerStartTime !== null && typeof ownerStartTime !== "string") return null;
  return { ownerPid: ownerPid as number, ownerStartTime, serverPid: serverPid as number };
}

function ownerAlive(owner: Owner): boolean {
  if (!isAlive(owner.ownerPid)) return false;
  // A pid reused by an unrelated process has a different start time.
  return owner.ownerStartTime === null || processStartTime(owner.ownerPid) === owner.ownerStartTime;
}

function readPid(check: StaleServerCheck): number | null {
  try {
    return check.parsePid(readFileSync(check.pidFile, "utf8"));
  } catch {
    return null;
  }
}

// Whether `pid` runs `commandName` from this data dir (both servers chdir into it).
function isServerOf(pid: number, check: StaleServerCheck): boolean {
  const commandLine = processCommandLine(pid);
  if (!commandLine?.includes(check.commandName)) return false;
  const cwd = processCwd(pid);
  if (cwd === null) return commandLine.includes(check.dataDir);
  return cwd === realpathSync(check.dataDir);
}

function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
