import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Client, DatabaseError } from "pg";
import { MigrationError } from "./migration-error.ts";
import { type MigrationFile, readMigrationFiles } from "./migration-files.ts";

/** The repository's `prisma/migrations`, found from this file so that any working directory works. */
export const DEFAULT_MIGRATIONS_DIR = fileURLToPath(new URL("../../../prisma/migrations", import.meta.url));

// Prisma's advisory lock key: a `prisma migrate deploy` run elsewhere waits for us, and we for it.
const ADVISORY_LOCK_KEY = 72707369;
const CREATE_TABLE_SQL = readFileSync(new URL("./sql/migrations-table.sql", import.meta.url), "utf8");

export interface MigrateOptions {
  /**
   * Folder holding `<timestamp>_<name>/migration.sql` directories.
   * @default the repository's prisma/migrations
   */
  migrationsDir?: string;
  /** Receives one line per step (applying, applied, warnings). @default discards them */
  log?: (message: string) => void;
}

export interface MigrateResult {
  /** Names of the migrations this call applied, in order; empty when the database was up to date. */
  applied: string[];
}

interface HistoryRow {
  id: string;
  migration_name: string;
  checksum: string;
  logs: string | null;
  started_at: Date;
  finished_at: Date | null;
  rolled_back_at: Date | null;
}

/**
 * Applies pending migrations the way `prisma migrate deploy` does, without Prisma's schema engine.
 *
 * Runs on one connection holding Prisma's advisory lock, so processes starting together apply each
 * migration once: the others wait, then find nothing left to do. Each `migration.sql` runs as one
 * simple-protocol query, hence in one implicit transaction. A failure is recorded in
 * `_prisma_migrations.logs` and stops this and every later run until a person resolves it.
 *
 * @throws {MigrationError} `P3018` when a migration fails, `P3009` when an earlier failure is unresolved,
 *   `MIGRATIONS_DIR_INVALID` when the files cannot be read. Connection errors are thrown as they come.
 * @example
 * const { applied } = await migrate(config.databaseUrl, { log: (line) => logger.info(line) });
 */
export async function migrate(databaseUrl: string, options: MigrateOptions = {}): Promise<MigrateResult> {
  const log = options.log ?? (() => {});
  const files = await readMigrationFiles(options.migrationsDir ?? DEFAULT_MIGRATIONS_DIR);
  const client = new Client({ connectionString: databaseUrl });
  // A dropped connection also rejects the query in flight; this only keeps the event from crashing us.
  client.on("error", () => {});
  await client.connect();
  try {
    await client.query("SELECT pg_advisory_lock($1)", [ADVISORY_LOCK_KEY]);
    try {
      return { applied: await applyPending(client, files, log) };
    } finally {
      // Closing the session releases the lock too; a failed unlock must not hide the real error.
      await client.query("SELECT pg_advisory_unlock($1)", [ADVISORY_LOCK_KEY]).catch(() => {});
    }
  } finally {
    await client.end();
  }
}

async function applyPending(
  client: Client,
  files: MigrationFile[],
  log: (message: string) => void,
): Promise<string[]> {
  await client.query(CREATE_TABLE_SQL);
  const { rows } = await client.query<HistoryRow>(
    `SELECT id, migration_name, checksum, logs, started_at, finished_at, rolled_back_at
       FROM "_prisma_migrations" ORDER BY started_at, migration_name`,
  );

  const failed = rows.find((row) => row.finished_at === null && row.rolled_back_at === null);
  if (failed) throw unresolvedFailure(failed);

  const live = rows.filter((row) => row.rolled_back_at === null);
  for (const file of files) {
    const row = live.find((r) => r.migration_name === file.name);
    // Like Prisma's deploy, an edited migration is reported but not refused.
    if (row && row.checksum !== file.checksum) {
      log(`warning: migration ${file.name} was modified after it was applied (checksum differs)`);
    }
  }
  const appliedNames = new Set(live.map((row) => row.migration_name));
  const pending = files.filter((file) => !appliedNames.has(file.name));
  if (pending.length === 0) {
    log(`No pending migrations (${files.length} already applied)`);
    return [];
  }

  const applied: string[] = [];
  for (const file of pending) {
    log(`Applying migration ${file.name}`);
    await applyOne(client, file);
    applied.push(file.name);
  }
  log(`Applied ${applied.length} migration(s): ${applied.join(", ")}`);
  return applied;
}

async function applyOne(client: Client, file: MigrationFile): Promise<void> {
  const id = randomUUID();
  await client.query(
    `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, applied_steps_count)
     VALUES ($1, $2, $3, now(), 0)`,
    [id, file.checksum, file.name],
  );
  try {
    // No parameters: node-postgres sends it with the simple query protocol, so the whole file is one
    // implicit transaction and `$$ … ; … $$` bodies reach the server intact.
    await client.query(file.sql);
  } catch (cause) {
    const logs = describeDatabaseError(cause);
    // If the connection is gone the row stays unfinished without logs: still a failure, still blocking.
    await client.query(`UPDATE "_prisma_migrations" SET logs = $2 WHERE id = $1`, [id, logs]).catch(() => {});
    throw new MigrationError(
      `Migration ${file.name} failed to apply; nothing from it was kept, and no later migration was applied.\n` +
        `${logs}\n` +
        "Fix the migration or the database, then mark the failed row rolled back before running migrate again " +
        "(https://pris.ly/d/migrate-resolve).",
      { code: "P3018", migration: file.name, cause },
    );
  }
  await client.query(
    `UPDATE "_prisma_migrations" SET applied_steps_count = 1, finished_at = now() WHERE id = $1`,
    [id],
  );
}

function unresolvedFailure(row: HistoryRow): MigrationError {
  return new MigrationError(
    `Migration ${row.migration_name} failed at ${row.started_at.toISOString()} and has not been resolved, ` +
      "so no migrations will be applied.\n" +
      (row.logs ? `Its error was:\n${row.logs}\n` : "") +
      "Repair the database by hand, then record the outcome: `prisma migrate resolve --rolled-back " +
      `${row.migration_name}\` where Prisma's engine is available, or ` +
      `UPDATE "_prisma_migrations" SET rolled_back_at = now() WHERE id = '${row.id}'; then migrate again.`,
    { code: "P3009", migration: row.migration_name },
  );
}

/** The text stored in `_prisma_migrations.logs`, in the shape of Prisma's own database error report. */
function describeDatabaseError(error: unknown): string {
  if (error instanceof DatabaseError) {
    const lines = [
      `Database error code: ${error.code}`,
      "",
      "Database error:",
      `${error.severity}: ${error.message}`,
    ];
    if (error.detail) lines.push(`DETAIL: ${error.detail}`);
    if (error.hint) lines.push(`HINT: ${error.hint}`);
    if (error.position) lines.push(`Position: ${error.position}`);
    if (error.where) lines.push(`CONTEXT: ${error.where}`);
    return lines.join("\n");
  }
  return error instanceof Error ? error.message : String(error);
}
