import { afterEach, describe, expect, it } from "vitest";
import { dropDatabase, testDatabaseUrl, uniqueDatabaseName } from "../../../test/support/db.ts";
import { ensureDatabase } from "./ensure-database.ts";
import { query } from "./testing/migration-fixtures.ts";

const created: string[] = [];
afterEach(async () => {
  await Promise.all(created.splice(0).map((name) => dropDatabase(name)));
});

describe("ensureDatabase", () => {
  it("creates a missing database once, even when several callers race to do it", async () => {
    const name = uniqueDatabaseName();
    created.push(name);
    const url = testDatabaseUrl(name);

    const results = await Promise.all(Array.from({ length: 6 }, () => ensureDatabase(url)));

    expect(results.filter((result) => result.created)).toHaveLength(1);
    expect(await query(url, "SELECT current_database() AS name")).toEqual([{ name }]);
    expect(await ensureDatabase(url)).toEqual({ created: false });
  });

  it("handles names that need quoting", async () => {
    const name = `${uniqueDatabaseName()}-Mixed Case`;
    created.push(name);
    const url = testDatabaseUrl(name);

    expect(await ensureDatabase(url)).toEqual({ created: true });
    expect(await query(url, "SELECT current_database() AS name")).toEqual([{ name }]);
  });

  it("rejects a URL without a database name", async () => {
    await expect(ensureDatabase("postgresql://postgres@127.0.0.1:5432")).rejects.toThrow(/names no database/);
  });
});
