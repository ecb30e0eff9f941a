import { type ChildProcess, spawn } from "node:child_process";
import { chmodSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";

export interface HeldServer {
  child: ChildProcess;
  url: string;
  pid: number;
  port: number;
}

const HOLD_SERVER = new URL("./hold-server.ts", import.meta.url).pathname;

/** Runs hold-server.ts in a new Node process and resolves once it has printed its server. */
export function holdServer(kind: "postgres" | "redis", dataDir: string, mode: string): Promise<HeldServer> {
  const child = spawn(process.execPath, [HOLD_SERVER, kind, dataDir, mode], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (chunk) => {
    stderr += chunk;
  });
  return new Promise((resolve, reject) => {
    child.once("exit", (code) =>
      reject(new Error(`hold-server exited (${code}) before printing:\n${stderr}`)),
    );
    createInterface({ input: child.stdout! }).once("line", (line) => {
      resolve({ child, ...(JSON.parse(line) as Omit<HeldServer, "child">) });
    });
  });
}

/** Resolves with the exit code (or 128 + signal) of a child process. */
export function exitOf(child: ChildProcess): Promise<number> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  if (child.signalCode !== null) return Promise.resolve(128);
  return new Promise((resolve) => child.once("exit", (code, signal) => resolve(code ?? (signal ? 128 : -1))));
}

/** The parent pid of `pid` (Linux). */
export function parentPid(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
}

/** Kills `server`'s lifeline (its parent shell and the shell's watcher subshell) with SIGKILL, orphaning it. */
export function killLifeline(server: number): void {
  const shell = parentPid(server);
  for (const pid of childPids(shell)) if (pid !== server) process.kill(pid, "SIGKILL");
  process.kill(shell, "SIGKILL");
}

function childPids(parent: number): number[] {
  return readdirSync("/proc")
    .filter((name) => /^\d+$/.test(name))
    .map(Number)
    .filter((pid) => {
      try {
        return parentPid(pid) === parent;
      } catch {
        return false;
      }
    });
}

/** A temp dir that the "postgres" user can enter when the tests run as root (mkdtemp makes it 0700). */
export function makeTempRoot(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(dir, 0o755);
  return dir;
}
