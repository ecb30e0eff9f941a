// Vitest global setup: runs once per `vitest run`, before any test file.
// Finds Postgres and Redis, migrates one template database for this run, and provides the names to the
// test processes (see `inject` in test/support/db.ts and redis.ts). Teardown drops the template and any
// test database of this run that a crashed or forgetful test file left behind.
import { randomBytes } from "node:crypto";
import { ensureDatabase, migrate } from "@foundry/db";
import { Client, escapeIdentifier } from "pg";
import type { TestProject } from "vitest/node";

/** What every test process can `inject()`. */
export interface TestServices {
  /** Migrated database to clone with `CREATE DATABASE … TEMPLATE`; nobody may connect to it. */
  databaseTemplate: string;
  /** URL of a database on the same server with rights to create and drop databases. */
  databaseAdminUrl: string;
  redisUrl: string;
}

declare module "vitest" {
  export interface ProvidedContext extends TestServices {}
}

interface Services {
  databaseAdminUrl: string;
  redisUrl: string;
  /** Stops whatever `resolveServices` started; absent when the services were already running. */
  stop?: () => Promise<void>;
}

/**
 * Where the tests' Postgres and Redis are. Today: the URLs from the environment, defaulting to the local
 * servers. This is the one place to start embedded servers when the variables are unset.
 */
async function resolveServices(env: NodeJS.ProcessEnv): Promise<Services> {
  return {
    databaseAdminUrl: env.DATABASE_URL || "postgresql://postgres@127.0.0.1:5432/postgres",
    redisUrl: env.REDIS_URL || "redis://127.0.0.1:6379",
  };
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const services = await resolveServices(process.env);
  const { databaseAdminUrl } = services;
  // Unique per run, so that two runs against one server never share or drop each other's databases.
  const runId = randomBytes(4).toString("hex");
  const databaseTemplate = `test_${runId}_template`;
  const templateUrl = withDatabase(databaseAdminUrl, databaseTemplate);

  await ensureDatabase(databaseAdminUrl);
  await adminQuery(databaseAdminUrl, `CREATE DATABASE ${escapeIdentifier(databaseTemplate)}`);
  try {
    await migrate(templateUrl);
    // A stray connection to the template would make every clone fail with "being accessed by other users".
    await adminQuery(
      databaseAdminUrl,
      `ALTER DATABASE ${escapeIdentifier(databaseTemplate)} WITH ALLOW_CONNECTIONS false`,
    );
  } catch (error) {
    await dropRunDatabases(databaseAdminUrl, runId);
    await services.stop?.();
    throw error;
  }

  project.provide("databaseTemplate", databaseTemplate);
  project.provide("databaseAdminUrl", databaseAdminUrl);
  project.provide("redisUrl", services.redisUrl);

  return async () => {
    try {
      await dropRunDatabases(databaseAdminUrl, runId);
    } finally {
      await services.stop?.();
    }
  };
}

/** Drops the template and every `test_<runId>_…` database (test files drop their own; this catches leaks). */
async function dropRunDatabases(adminUrl: string, runId: string): Promise<void> {
  const client = new Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ datname: string }>(
      "SELECT datname FROM pg_database WHERE starts_with(datname, $1)",
      [`test_${runId}_`],
    );
    for (const { datname } of rows) {
      await client.query(`DROP DATABASE IF EXISTS ${escapeIdentifier(datname)} WITH (FORCE)`);
    }
  } finally {
    await client.end();
  }
}

async function adminQuery(adminUrl: string, sql: string): Promise<void> {
  const client = new Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

function withDatabase(url: string, database: string): string {
  const next = new URL(url);
  next.pathname = `/${encodeURIComponent(database)}`;
  return next.toString();
}
