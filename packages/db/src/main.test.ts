// The migrate command as separate OS processes: what happens when several replicas start at once.
import { spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { dropDatabase, testDatabaseUrl, uniqueDatabaseName } from "../../../test/support/db.ts";
import { DEFAULT_MIGRATIONS_DIR } from "./migrate.ts";
import {
  migrationRows,
  migrationsFixture,
  NON_IDEMPOTENT_MIGRATIONS,
  query,
  tableNames,
} from "./testing/migration-fixtures.ts";

const MAIN = fileURLToPath(new URL("./main.ts", import.meta.url));

interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runMigrate(env: Record<string, string | undefined>, args: string[] = []): Promise<Exit> {
  return new Promise((resolve, reject) => {
    // From a foreign working directory: the default migrations folder must not depend on it.
    const child = spawn(process.execPath, [MAIN, "migrate", ...args], {
      cwd: tmpdir(),
      env: { PATH: process.env.PATH, ...env },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
    });
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

/** A database name that does not exist yet: the command must create it. */
function newDatabaseUrl(): string {
  const name = uniqueDatabaseName();
  cleanups.push(() => dropDatabase(name));
  return testDatabaseUrl(name);
}

describe("node packages/db/src/main.ts migrate", () => {
  it("exits 1 with a clear message when DATABASE_URL is unset", async () => {
    const exit = await runMigrate({});
    expect(exit.code).toBe(1);
    expect(exit.stderr).toContain("DATABASE_URL is not set");
  });

  it("creates the database and applies the repository's migrations from any directory", async () => {
    const url = newDatabaseUrl();
    const names = readdirSync(DEFAULT_MIGRATIONS_DIR, { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name)
      .sort();

    const first = await runMigrate({ DATABASE_URL: url });
    expect(first).toMatchObject({ code: 0, stderr: "" });
    expect(first.stdout).toContain("Created database");
    for (const name of names) expect(first.stdout).toContain(`Applying migration ${name}`);
    expect((await migrationRows(url)).map((row) => row.migration_name)).toEqual(names);

    const again = await runMigrate({ DATABASE_URL: url });
    expect(again.code).toBe(0);
    expect(again.stdout).not.toContain("Created database");
    expect(again.stdout).toContain("No pending migrations");
  });

  it("applies each migration exactly once when several processes start together", async () => {
    const url = newDatabaseUrl();
    const migrations = await migrationsFixture(NON_IDEMPOTENT_MIGRATIONS);
    cleanups.push(() => migrations.remove());
    const names = Object.keys(NON_IDEMPOTENT_MIGRATIONS);

    const exits = await Promise.all(
      Array.from({ length: 5 }, () =>
        runMigrate({ DATABASE_URL: url }, ["--migrations-dir", migrations.dir]),
      ),
    );

    for (const exit of exits) expect(exit).toMatchObject({ code: 0, stderr: "" });
    const output = exits.map((exit) => exit.stdout).join("\n");
    expect(output.match(/Created database/g)).toHaveLength(1);
    for (const name of names)
      expect(output.match(new RegExp(`Applying migration ${name}`, "g"))).toHaveLength(1);
    expect((await migrationRows(url)).map((row) => row.migration_name)).toEqual(names);
    const applications = await query(url, "SELECT migration FROM applications ORDER BY at");
    expect(applications).toEqual([{ migration: "first" }, { migration: "slow" }, { migration: "third" }]);
  });

  it("exits 1 naming the migration that failed, and keeps refusing on the next run", async () => {
    const url = newDatabaseUrl();
    const migrations = await migrationsFixture({
      "20260101000000_good": "CREATE TABLE good (id int);",
      "20260101000001_broken": "SELECT * FROM no_such_table;",
    });
    cleanups.push(() => migrations.remove());

    const failed = await runMigrate({ DATABASE_URL: url }, ["--migrations-dir", migrations.dir]);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain("Migration 20260101000001_broken failed to apply");
    expect(failed.stderr).toContain('relation "no_such_table" does not exist');

    const refused = await runMigrate({ DATABASE_URL: url }, ["--migrations-dir", migrations.dir]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("Migration 20260101000001_broken failed at");
    expect(await tableNames(url)).toEqual(["_prisma_migrations", "good"]);
  });
});
