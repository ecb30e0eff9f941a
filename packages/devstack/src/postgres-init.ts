import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ServerStartError } from "./errors.ts";
import type { Account } from "./postgres-account.ts";

// Creates a cluster with one superuser, "postgres", whose random password is kept next to the data
// (PASSWORD_FILE, mode 0600) so that later runs can connect. PostgreSQL ignores unknown files in its
// data directory.

export const SUPERUSER = "postgres";
const PASSWORD_FILE = "devstack-password";

export function isInitialised(dataDir: string): boolean {
  return existsSync(join(dataDir, "PG_VERSION"));
}

/** Runs initdb on an empty (or missing) `dataDir`; resolves with the superuser's password. */
export async function initCluster(
  initdb: string,
  dataDir: string,
  account: Account | undefined,
  log: (line: string) => void,
): Promise<string> {
  const password = randomBytes(18).toString("base64url");
  // initdb reads the password from a file; keep it out of the (still empty) data directory.
  const scratch = mkdtempSync(join(tmpdir(), "devstack-initdb-"));
  const pwfile = join(scratch, "pw");
  try {
    writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
    if (account) {
      chownSync(scratch, account.uid, account.gid);
      chownSync(pwfile, account.uid, account.gid);
    }
    const args = [
      `--pgdata=${dataDir}`,
      `--username=${SUPERUSER}`,
      `--pwfile=${pwfile}`,
      "--auth=scram-sha-256",
      "--encoding=UTF8",
      // C locale: same sort order on every machine and no dependency on the OS's installed locales.
      "--no-locale",
      "--no-instructions",
    ];
    const output = await run(initdb, args, account, dataDir);
    for (const line of output.split("\n")) if (line) log(line);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  writeFileSync(join(dataDir, PASSWORD_FILE), `${password}\n`, { mode: 0o600 });
  return password;
}

/** The superuser password stored by initCluster. */
export function readPassword(dataDir: string): string {
  try {
    return readFileSync(join(dataDir, PASSWORD_FILE), "utf8").trim();
  } catch (cause) {
    throw new ServerStartError(
      `${dataDir} holds a PostgreSQL cluster but not its ${PASSWORD_FILE} file, so its password is unknown. ` +
        "It was not created by this launcher: delete the directory to start afresh, or set DATABASE_URL.",
      "",
      { cause },
    );
  }
}

function run(file: string, args: string[], account: Account | undefined, dataDir: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { ...account, encoding: "utf8" }, (error, stdout, stderr) => {
      const output = `${stdout}${stderr}`.trim();
      if (error) reject(new ServerStartError(`initdb failed for ${dataDir}`, output, { cause: error }));
      else resolve(output);
    });
  });
}
