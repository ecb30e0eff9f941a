import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../../test/support/db.ts";
import { DEFAULT_MIGRATIONS_DIR, migrate } from "./migrate.ts";
import { MigrationError } from "./migration-error.ts";
import {
  type MigrationsFixture,
  migrationRows,
  migrationsFixture,
  NON_IDEMPOTENT_MIGRATIONS,
  query,
  tableNames,
} from "./testing/migration-fixtures.ts";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

async function emptyDatabase(): Promise<TestDatabase> {
  const db = await createTestDatabase({ empty: true });
  cleanups.push(() => db.drop());
  return db;
}

async function fixture(migrations: Record<string, string>): Promise<MigrationsFixture> {
  const created = await migrationsFixture(migrations);
  cleanups.push(() => created.remove());
  return created;
}

const repoMigrations = readdirSync(DEFAULT_MIGRATIONS_DIR, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name)
  .sort();

describe("migrate", () => {
  it("applies the repository's migrations to an empty database, then has nothing to do", async () => {
    const db = await emptyDatabase();
    expect(repoMigrations.length).toBeGreaterThan(0);

    expect(await migrate(db.url)).toEqual({ applied: repoMigrations });
    expect(await tableNames(db.url)).toEqual(
      [
        "_prisma_migrations",
        "audit_log",
        "generated_files",
        "leader_leases",
        "login_attempts",
        "login_sessions",
        "model_calls",
        "phase_runs",
        "provider_breakers",
        "rate_admissions",
        "response_cache",
        "session_events",
        "sessions",
        "spend_minute_shards",
        "spend_minutes",
        "votes",
      ].sort(),
    );
    const rows = await migrationRows(db.url);
    expect(rows.map((row) => row.migration_name)).toEqual(repoMigrations);
    for (const row of rows) {
      expect(row).toMatchObject({ applied_steps_count: 1, logs: null, rolled_back_at: null });
      expect(row.finished_at).toBeInstanceOf(Date);
    }

    const logs: string[] = [];
    expect(await migrate(db.url, { log: (line) => logs.push(line) })).toEqual({ applied: [] });
    expect(await migrationRows(db.url)).toEqual(rows);
    expect(logs.join("\n")).toContain("No pending migrations");
  });

  it("stores the SHA-256 of each migration.sql as its checksum", async () => {
    const db = await emptyDatabase();
    await migrate(db.url);
    const rows = await migrationRows(db.url);
    for (const row of rows) {
      const file = readFileSync(join(DEFAULT_MIGRATIONS_DIR, row.migration_name, "migration.sql"));
      expect(row.checksum).toBe(createHash("sha256").update(file).digest("hex"));
    }
    expect(rows[0]?.checksum).toMatch(/^[0-9a-f]{64}$/);
  });

  it("sends each file whole, so dollar-quoted bodies with semicolons survive", async () => {
    const db = await emptyDatabase();
    const migrations = await fixture({
      "20260101000000_function": `
        CREATE FUNCTION shout(word text) RETURNS text LANGUAGE plpgsql AS $body$
        BEGIN
          word := upper(word);
          RETURN word || '!';
        END;
        $body$;
        CREATE TABLE after_function (id int);`,
    });

    await migrate(db.url, { migrationsDir: migrations.dir });
    expect(await query(db.url, "SELECT shout('hi') AS said")).toEqual([{ said: "HI!" }]);
    expect(await tableNames(db.url)).toContain("after_function");
  });

  it("applies each migration exactly once when many callers start together", async () => {
    const db = await emptyDatabase();
    const migrations = await fixture(NON_IDEMPOTENT_MIGRATIONS);
    const names = Object.keys(NON_IDEMPOTENT_MIGRATIONS);

    const results = await Promise.all(
      Array.from({ length: 8 }, () => migrate(db.url, { migrationsDir: migrations.dir })),
    );

    expect(results.flatMap((result) => result.applied).sort()).toEqual(names);
    const rows = await migrationRows(db.url);
    expect(rows.map((row) => row.migration_name)).toEqual(names);
    expect(rows.every((row) => row.finished_at !== null)).toBe(true);
    const applications = await query(db.url, "SELECT migration FROM applications ORDER BY at");
    expect(applications).toEqual([{ migration: "first" }, { migration: "slow" }, { migration: "third" }]);
  });

  it("records a failed migration atomically and refuses to go on until it is resolved", async () => {
    const db = await emptyDatabase();
    const migrations = await fixture({
      "20260101000000_good": "CREATE TABLE good (id int);",
      "20260101000001_broken": "CREATE TABLE half_done (id int);\nSELECT 1 / 0;",
      "20260101000002_later": "CREATE TABLE later (id int);",
    });

    const failure = await migrate(db.url, { migrationsDir: migrations.dir }).catch((error) => error);
    expect(failure).toBeInstanceOf(MigrationError);
    expect(failure).toMatchObject({
      name: "MigrationError",
      code: "P3018",
      migration: "20260101000001_broken",
    });
    expect(failure.message).toContain("20260101000001_broken");
    expect(failure.message).toContain("division by zero");
    expect(failure.cause).toMatchObject({ code: "22012" });

    let rows = await migrationRows(db.url);
    expect(rows.map((row) => [row.migration_name, row.finished_at === null])).toEqual([
      ["20260101000000_good", false],
      ["20260101000001_broken", true],
    ]);
    expect(rows[1]?.logs).toContain("Database error code: 22012");
    expect(rows[1]?.logs).toContain("division by zero");
    // The whole file was one transaction: the table created before the error is gone.
    expect(await tableNames(db.url)).toEqual(["_prisma_migrations", "good"]);

    const refusal = await migrate(db.url, { migrationsDir: migrations.dir }).catch((error) => error);
    expect(refusal).toBeInstanceOf(MigrationError);
    expect(refusal).toMatchObject({ code: "P3009", migration: "20260101000001_broken" });
    expect(refusal.message).toMatch(/Migration 20260101000001_broken failed at .* has not been resolved/);
    expect(await migrationRows(db.url)).toEqual(rows);

    // What `prisma migrate resolve --rolled-back` does, after the file is fixed.
    await migrations.write("20260101000001_broken", "CREATE TABLE half_done (id int);");
    await query(db.url, `UPDATE "_prisma_migrations" SET rolled_back_at = now() WHERE migration_name = $1`, [
      "20260101000001_broken",
    ]);
    expect(await migrate(db.url, { migrationsDir: migrations.dir })).toEqual({
      applied: ["20260101000001_broken", "20260101000002_later"],
    });
    rows = await migrationRows(db.url);
    expect(rows.filter((row) => row.migration_name === "20260101000001_broken")).toHaveLength(2);
    expect(await tableNames(db.url)).toEqual(["_prisma_migrations", "good", "half_done", "later"]);
  });

  it("refuses a migration directory without migration.sql before touching the database", async () => {
    const db = await emptyDatabase();
    const migrations = await fixture({ "20260101000000_good": "CREATE TABLE good (id int);" });
    await migrations.write("20260101000001_empty/ignored", "");

    const failure = await migrate(db.url, { migrationsDir: migrations.dir }).catch((error) => error);
    expect(failure).toMatchObject({ code: "MIGRATIONS_DIR_INVALID", migration: "20260101000001_empty" });
    expect(await tableNames(db.url)).toEqual([]);
  });

  it("warns about, but does not refuse, a migration edited after it was applied", async () => {
    const db = await emptyDatabase();
    const migrations = await fixture({ "20260101000000_first": "CREATE TABLE first (id int);" });
    await migrate(db.url, { migrationsDir: migrations.dir });
    await migrations.write("20260101000000_first", "CREATE TABLE first (id bigint);");

    const logs: string[] = [];
    expect(await migrate(db.url, { migrationsDir: migrations.dir, log: (line) => logs.push(line) })).toEqual({
      applied: [],
    });
    expect(logs).toContain(
      "warning: migration 20260101000000_first was modified after it was applied (checksum differs)",
    );
  });

  it("applies only the migrations added since the last run", async () => {
    const db = await emptyDatabase();
    const migrations = await fixture({ "20260101000000_first": "CREATE TABLE first (id int);" });
    expect(await migrate(db.url, { migrationsDir: migrations.dir })).toEqual({
      applied: ["20260101000000_first"],
    });

    await migrations.write("20260101000001_second", "CREATE TABLE second (id int);");
    expect(await migrate(db.url, { migrationsDir: migrations.dir })).toEqual({
      applied: ["20260101000001_second"],
    });
    expect(await tableNames(db.url)).toEqual(["_prisma_migrations", "first", "second"]);
  });
});
