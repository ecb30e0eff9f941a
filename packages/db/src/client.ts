import { createHash } from "node:crypto";
import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "./generated/client.ts";

export interface CreatePrismaOptions {
  /**
   * Connections in this client's pool. Size it per process: API replicas × max plus workers × max must
   * stay under the server's `max_connections`.
   * @default 10 (node-postgres' default)
   */
  max?: number;
  /**
   * How long a pooled connection may stay idle before the pool closes it.
   * @default POOL_IDLE_TIMEOUT_MS (5 minutes)
   */
  idleTimeoutMs?: number;
}

/**
 * How long an idle pooled connection stays open: 5 minutes, where node-postgres closes one after
 * 10 seconds. With real model latencies a worker's statements come seconds apart, so a 10-second
 * timeout closed and reopened its connections all session long, and each new connection costs the
 * server a backend, its catalog caches and the first (custom) plans of every statement again. Two
 * sessions at once with 12 s answers used 1.5 s of PostgreSQL CPU with 22 connections instead of
 * 2.2–2.4 s with 31–36 (bench/README.md, seventh run). The pool still never holds more than `max`.
 */
export const POOL_IDLE_TIMEOUT_MS = 5 * 60_000;

/**
 * A Prisma client on node-postgres through Prisma's driver adapter (no query-engine binary).
 * Connects lazily; call `$disconnect()` when done to close the pool.
 * @example
 * const prisma = createPrisma(env.DATABASE_URL, { max: 5 });
 */
export function createPrisma(databaseUrl: string, options: CreatePrismaOptions = {}): PrismaClient {
  const adapter = new PrismaPg(
    {
      connectionString: databaseUrl,
      idleTimeoutMillis: options.idleTimeoutMs ?? POOL_IDLE_TIMEOUT_MS,
      ...(options.max === undefined ? {} : { max: options.max }),
    },
    { statementNameGenerator: preparedStatementName },
  );
  // Under load a transaction may wait for a pooled connection longer than Prisma's 2 s default, and
  // run longer than its 5 s default: waiting is better than failing a request or a job step.
  return new PrismaClient({ adapter, transactionOptions: { maxWait: 10_000, timeout: 30_000 } });
}

/**
 * Statements with more parameters than this (multi-row inserts, long `IN` lists) run unnamed: each
 * row count would otherwise be one more prepared statement kept on every pooled connection.
 */
export const MAX_PREPARED_PARAMETERS = 64;

/**
 * The name a statement is prepared under on each pooled connection, so PostgreSQL parses and plans
 * the engine's statements once per connection instead of on every execution (the journal's and the
 * phase transitions' statements are long CTEs, whose planning cost as much as running them). The
 * name is a digest of the SQL text, so one text is one statement; the empty name (node-postgres'
 * unnamed statement) runs it unprepared.
 */
export function preparedStatementName(query: { sql: string; args: readonly unknown[] }): string {
  if (query.args.length > MAX_PREPARED_PARAMETERS) return "";
  let name = statementNames.get(query.sql);
  if (name === undefined) {
    name = `foundry_${createHash("sha256").update(query.sql).digest("base64url").slice(0, 32)}`;
    // The statements' texts are few, but nothing bounds them: forget them all rather than grow.
    if (statementNames.size >= MAX_REMEMBERED_NAMES) statementNames.clear();
    statementNames.set(query.sql, name);
  }
  return name;
}

const MAX_REMEMBERED_NAMES = 4096;
/** Names by SQL text, so a statement run again is not digested again. */
const statementNames = new Map<string, string>();
