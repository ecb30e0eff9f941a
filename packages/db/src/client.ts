import { createHash } from "node:crypto";
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { Prisma, PrismaClient } from "./generated/client.ts";

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
  const config: pg.PoolConfig = {
    connectionString: databaseUrl,
    idleTimeoutMillis: options.idleTimeoutMs ?? POOL_IDLE_TIMEOUT_MS,
    ...(options.max === undefined ? {} : { max: options.max }),
  };
  // One pool for Prisma's adapter and queryRows, made here rather than by the adapter so that
  // queryRows can use it before Prisma's engine has started: a process whose statements all go
  // through queryRows never starts it (its query compiler is about 20 MB of resident memory).
  // Whichever needs it first after a $disconnect opens the next one.
  const state = { pool: openPool(config) };
  const current = () => {
    if (state.pool.ending || state.pool.ended) state.pool = openPool(config);
    return state.pool;
  };
  const adapterOptions = { statementNameGenerator: preparedStatementName, disposeExternalPool: true };
  class SharedPoolAdapter extends PrismaPg {
    override connect() {
      return new PrismaPg(current(), adapterOptions).connect();
    }
  }
  // Under load a transaction may wait for a pooled connection longer than Prisma's 2 s default, and
  // run longer than its 5 s default: waiting is better than failing a request or a job step.
  const client = new PrismaClient({
    adapter: new SharedPoolAdapter(config, adapterOptions),
    transactionOptions: { maxWait: 10_000, timeout: 30_000 },
  });
  pools.set(client, current);
  // Prisma disposes of its adapter (ending the pool) only if its engine started: a client used
  // through queryRows alone ends its pool here.
  const disconnect = client.$disconnect.bind(client);
  client.$disconnect = async () => {
    await disconnect();
    if (!state.pool.ending && !state.pool.ended) await state.pool.end();
  };
  return client;
}

function openPool(config: pg.PoolConfig): pg.Pool {
  const pool = new pg.Pool(config);
  // An idle connection that breaks (the server restarted) leaves the pool, and the next statement
  // opens another; without a listener its 'error' event would end the process.
  pool.on("error", () => {});
  return pool;
}

/** The pool of each client createPrisma made, as of now (a new one after a $disconnect). */
const pools = new WeakMap<object, () => pg.Pool>();

/**
 * Runs `query` (a `Prisma.sql` template) through node-postgres on the client's own pool, as a
 * prepared statement named like Prisma's (preparedStatementName), without Prisma's runtime: 70–110
 * µs of this process's CPU per statement instead of 170–270 µs (bench/README.md, eighth run). For
 * the statements run on every call and every phase. Rows come back as node-postgres parses them:
 * `numeric` and `int8` as strings (cast counts to `int`), `timestamptz` as `Date`, `json` and `jsonb`
 * parsed, `int4` as numbers. Decimal parameters are sent as their text.
 *
 * Inside an interactive transaction (`db` is its client), or for a client createPrisma did not make,
 * the statement runs through Prisma's `$queryRaw`, whose rows differ only in those types (`numeric` as
 * `Prisma.Decimal`, `int8` as `bigint`): convert such columns so that both read the same.
 */
export async function queryRows<T>(
  db: PrismaClient | Prisma.TransactionClient,
  query: Prisma.Sql,
): Promise<T[]> {
  return queryText<T>(db, query.text, query.values);
}

/**
 * queryRows for a statement kept as text with `$1`… placeholders (a `.sql` file), and its values.
 * Outside createPrisma's clients and inside a transaction it runs through `$queryRawUnsafe`.
 */
export async function queryText<T>(
  db: PrismaClient | Prisma.TransactionClient,
  text: string,
  values: readonly unknown[],
): Promise<T[]> {
  const pool = poolOf(db);
  if (!pool) return (db as PrismaClient).$queryRawUnsafe<T[]>(text, ...values);
  return (await run<T & pg.QueryResultRow>(pool, text, values)).rows;
}

/**
 * Runs `query` as queryRows does, for its effect: its rows, if any, are not read (so it may end in a
 * `SELECT` of `void` columns such as `pg_notify`, which Prisma's `$queryRaw` cannot read). Inside an
 * interactive transaction it runs through Prisma's `$executeRaw`.
 */
export async function executeSql(
  db: PrismaClient | Prisma.TransactionClient,
  query: Prisma.Sql,
): Promise<void> {
  const pool = poolOf(db);
  if (!pool) await (db as PrismaClient).$executeRaw(query);
  else await run(pool, query.text, query.values);
}

/** The pool queryRows and executeSql run on, or null when `db` is not a client createPrisma made. */
function poolOf(db: PrismaClient | Prisma.TransactionClient): pg.Pool | null {
  return pools.get(db)?.() ?? null;
}

function run<T extends pg.QueryResultRow>(
  pool: pg.Pool,
  text: string,
  args: readonly unknown[],
): Promise<pg.QueryResult<T>> {
  const values = args.map((value) => (Prisma.Decimal.isDecimal(value) ? value.toString() : value));
  return pool.query<T>({
    name: preparedStatementName({ sql: text, args: values }) || undefined,
    text,
    values,
  });
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
