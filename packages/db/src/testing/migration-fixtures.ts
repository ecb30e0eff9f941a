// Test-only helpers: throwaway migration folders and raw queries against a test database.
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "pg";

export interface MigrationsFixture {
  dir: string;
  /** Writes (or overwrites) `<dir>/<name>/migration.sql`. */
  write(name: string, sql: string): Promise<void>;
  remove(): Promise<void>;
}

/** A temporary migrations folder holding `migrations` (directory name -> SQL). */
export async function migrationsFixture(migrations: Record<string, string>): Promise<MigrationsFixture> {
  const dir = await mkdtemp(join(tmpdir(), "foundry-migrations-"));
  const fixture: MigrationsFixture = {
    dir,
    async write(name, sql) {
      await mkdir(join(dir, name), { recursive: true });
      await writeFile(join(dir, name, "migration.sql"), sql);
    },
    remove: () => rm(dir, { recursive: true, force: true }),
  };
  for (const [name, sql] of Object.entries(migrations)) await fixture.write(name, sql);
  return fixture;
}

/**
 * Three migrations that cannot be applied twice (plain CREATE TABLE), one of them slow so that concurrent
 * runners overlap, each recording its own application in `applications`.
 */
export const NON_IDEMPOTENT_MIGRATIONS: Record<string, string> = {
  "20260101000000_first":
    "CREATE TABLE applications (migration text NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp());\n" +
    "INSERT INTO applications (migration) VALUES ('first');\n",
  "20260101000001_slow":
    "CREATE TABLE slow (id int);\nSELECT pg_sleep(0.3);\nINSERT INTO applications (migration) VALUES ('slow');\n",
  "20260101000002_third":
    "CREATE TABLE third (id int);\nINSERT INTO applications (migration) VALUES ('third');\n",
};

export interface MigrationRow {
  id: string;
  migration_name: string;
  checksum: string;
  logs: string | null;
  finished_at: Date | null;
  rolled_back_at: Date | null;
  applied_steps_count: number;
}

/** Runs one query on a short-lived connection. */
export async function query<Row extends object = Record<string, unknown>>(
  url: string,
  sql: string,
  values: unknown[] = [],
): Promise<Row[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<Row>(sql, values)).rows;
  } finally {
    await client.end();
  }
}

export function migrationRows(url: string): Promise<MigrationRow[]> {
  return query<MigrationRow>(url, 'SELECT * FROM "_prisma_migrations" ORDER BY started_at, migration_name');
}

export async function tableNames(url: string): Promise<string[]> {
  const rows = await query<{ table_name: string }>(
    url,
    "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name",
  );
  return rows.map((row) => row.table_name);
}
