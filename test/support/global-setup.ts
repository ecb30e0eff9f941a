// Vitest global setup: runs once per `vitest run`, before any test file.
// Finds Postgres and Redis, migrates one template database for this run, and provides the names to the
// test processes (see `inject` in test/support/db.ts and redis.ts). Teardown drops the template and any
// test database of this run that a crashed or forgetful test file left behind.
import { randomBytes } from "node:crypto";
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureDatabase, migrate } from "@foundry/db";
import { findRedisServer, startEmbeddedPostgres, startPrivateRedis } from "@foundry/devstack";
import { openQueueConnection } from "@foundry/queue";
import { Client, escapeIdentifier } from "pg";
import type { TestProject } from "vitest/node";

/** What every test process can `inject()`. */
export interface TestServices {
  /** Migrated database to clone with `CREATE DATABASE … TEMPLATE`; nobody may connect to it. */
  databaseTemplate: string;
  /** URL of a database on the same server with rights to create and drop databases. */
  databaseAdminUrl: string;
  /** "" when there is no Redis (no REDIS_URL and no redis-server): the queues run on PostgreSQL. */
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
 * Where the tests' Postgres and Redis are: the servers named by DATABASE_URL (a database on a server
 * where the user may create databases) and REDIS_URL, or, where a variable is unset, an embedded
 * PostgreSQL and a private redis-server (when the machine has the binary) started for this run in a
 * temporary directory and removed afterwards. Without any Redis the queues run on PostgreSQL and the
 * tests of Redis itself are skipped, so `npm test` needs nothing but Node.
 */
async function resolveServices(env: NodeJS.ProcessEnv): Promise<Services> {
  const stops: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const fn of stops.reverse()) await fn();
  };
  try {
    let redisUrl = env.REDIS_URL;
    let databaseAdminUrl = env.DATABASE_URL;
    if (!redisUrl || !databaseAdminUrl) {
      const dir = await mkdtemp(join(tmpdir(), "foundry-test-services-"));
      // PostgreSQL runs as its own user when the tests run as root: it must be able to enter the directory.
      await chmod(dir, 0o755);
      stops.push(() => rm(dir, { recursive: true, force: true }));
      if (!redisUrl && findRedisServer()) {
        const redis = await startPrivateRedis({ dataDir: join(dir, "redis") });
        stops.push(() => redis.stop());
        redisUrl = redis.url;
      }
      if (!databaseAdminUrl) {
        const postgres = await startEmbeddedPostgres({ dataDir: join(dir, "postgres") });
        stops.push(() => postgres.stop());
        databaseAdminUrl = postgres.url;
      }
      process.stderr.write(
        `test services: postgres ${env.DATABASE_URL ? "from DATABASE_URL" : "embedded"}, redis ${env.REDIS_URL ? "from REDIS_URL" : redisUrl ? "private redis-server" : "none (no REDIS_URL, no redis-server: queues on PostgreSQL, tests of Redis itself skipped)"} (${dir})\n`,
      );
    }
    return { databaseAdminUrl, redisUrl: redisUrl ?? "", stop };
  } catch (error) {
    await stop();
    throw error;
  }
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
    // BullMQ's own tables too, for the tests whose queues run on PostgreSQL (TEST_QUEUE_BACKEND).
    await (await openQueueConnection({ kind: "postgres", url: templateUrl }, { role: "producer" })).close();
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
