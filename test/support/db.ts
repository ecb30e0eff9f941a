// Per-test-file Postgres databases cloned from the run's migrated template (see global-setup.ts).
//
//   let db: TestDatabase;
//   beforeAll(async () => { db = await createTestDatabase(); });
//   afterAll(() => db.drop());
import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { createPrisma, type PrismaClient } from "@foundry/db";
import { Client, DatabaseError, escapeIdentifier } from "pg";
import { inject } from "vitest";
import type { TestServices } from "./global-setup.ts";

export interface TestDatabase {
  /** Database name, `test_<run>_<random>`. */
  name: string;
  url: string;
  /** A client on `url` (pool of 5); `drop()` disconnects it. */
  prisma: PrismaClient;
  /** Disconnects `prisma` and drops the database, closing any connection still open. Idempotent. */
  drop(): Promise<void>;
}

export interface CreateTestDatabaseOptions {
  /**
   * `true` for a database without any table (cloned from `template0`), for testing migrations themselves.
   * @default false: a clone of the migrated template
   */
  empty?: boolean;
}

// object_in_use: the source database had another session at that instant (CREATE DATABASE needs it alone).
const SOURCE_IN_USE = "55006";
const MAX_ATTEMPTS = 20;

/** Creates a fresh database for one test file: migrated (a template clone, ~0.1 s) unless `empty`. */
export async function createTestDatabase(options: CreateTestDatabaseOptions = {}): Promise<TestDatabase> {
  const { databaseAdminUrl: adminUrl, databaseTemplate } = services();
  const template = options.empty ? "template0" : databaseTemplate;
  const name = uniqueDatabaseName();

  await withAdmin(adminUrl, async (admin) => {
    const sql = `CREATE DATABASE ${escapeIdentifier(name)} TEMPLATE ${escapeIdentifier(template)}`;
    for (let attempt = 1; ; attempt++) {
      try {
        await admin.query(sql);
        return;
      } catch (error) {
        const inUse = error instanceof DatabaseError && error.code === SOURCE_IN_USE;
        if (!inUse || attempt >= MAX_ATTEMPTS) throw error;
        await sleep(25 * attempt + Math.random() * 25);
      }
    }
  });

  const url = testDatabaseUrl(name);
  const prisma = createPrisma(url, { max: 5 });
  let dropped: Promise<void> | undefined;
  return {
    name,
    url,
    prisma,
    drop() {
      dropped ??= prisma.$disconnect().finally(() => dropDatabase(name));
      return dropped;
    },
  };
}

/**
 * A database name no one uses yet, `test_<run>_<random>`, for tests that create databases themselves.
 * The run's prefix lets global teardown drop whatever a crashed test file left behind.
 */
export function uniqueDatabaseName(): string {
  return `${services().databaseTemplate.replace(/template$/, "")}${randomBytes(6).toString("hex")}`;
}

/** The URL of database `name` on the test server. */
export function testDatabaseUrl(name: string): string {
  const url = new URL(services().databaseAdminUrl);
  url.pathname = `/${encodeURIComponent(name)}`;
  return url.toString();
}

/** Drops database `name` if it exists, closing any connection still open to it. */
export async function dropDatabase(name: string): Promise<void> {
  await withAdmin(services().databaseAdminUrl, (admin) =>
    admin.query(`DROP DATABASE IF EXISTS ${escapeIdentifier(name)} WITH (FORCE)`),
  );
}

function services(): Pick<TestServices, "databaseAdminUrl" | "databaseTemplate"> {
  const databaseAdminUrl = inject("databaseAdminUrl");
  const databaseTemplate = inject("databaseTemplate");
  if (!databaseAdminUrl || !databaseTemplate) {
    throw new Error(
      "No test database server: test/support/global-setup.ts must be listed in vitest's globalSetup",
    );
  }
  return { databaseAdminUrl, databaseTemplate };
}

async function withAdmin<T>(adminUrl: string, use: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: adminUrl });
  client.on("error", () => {});
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}
