// A scratch database for benchmarks (worker processes and prefix cleanup are shared with the tests:
// test/support/cluster.ts). Everything here is real: Postgres, Redis, OS processes.
import { randomBytes } from "node:crypto";
import { ensureDatabase, migrate } from "@foundry/db";
import { Client, escapeIdentifier } from "pg";

export interface ScratchDatabase {
  name: string;
  url: string;
  /** Drops it, closing any connection still open. */
  drop(): Promise<void>;
}

/** Creates and migrates `bench_<random>` on the server of `adminUrl` (a database with CREATEDB rights). */
export async function createScratchDatabase(adminUrl: string): Promise<ScratchDatabase> {
  const name = `bench_${randomBytes(6).toString("hex")}`;
  const url = withDatabase(adminUrl, name);
  const drop = async () => {
    const client = new Client({ connectionString: adminUrl });
    client.on("error", () => {});
    await client.connect();
    try {
      await client.query(`DROP DATABASE IF EXISTS ${escapeIdentifier(name)} WITH (FORCE)`);
    } finally {
      await client.end();
    }
  };
  await ensureDatabase(url);
  try {
    await migrate(url);
  } catch (error) {
    await drop();
    throw error;
  }
  return { name, url, drop };
}

function withDatabase(url: string, database: string): string {
  const next = new URL(url);
  next.pathname = `/${encodeURIComponent(database)}`;
  return next.toString();
}
