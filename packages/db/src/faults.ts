import { isPostgresFault, isTransientSqlState } from "@foundry/errors";
import { Prisma } from "./generated/client.ts";

// Telling "the database is unavailable" apart from "the database refused this statement". The first is
// an infrastructure fault: callers wait and try the same thing again (it never uses up a job's attempts
// or gets blamed on a model provider); the second is a bug or bad data and fails normally.

/** Prisma error codes that mean the server could not be reached or the connection broke. */
const PRISMA_CONNECTION_CODES = new Set([
  "P1001", // can't reach database server
  "P1002", // server reached but timed out
  "P1008", // operations timed out
  "P1017", // server closed the connection
  "P2024", // timed out fetching a connection from the pool
  "P2028", // transaction API error (the connection under an interactive transaction broke)
  "P2034", // write conflict or deadlock: the server asks for the transaction to be run again
]);

/** Driver-adapter error kinds (@prisma/adapter-pg) of the same meaning. */
const ADAPTER_CONNECTION_KINDS = new Set([
  "DatabaseNotReachable",
  "ConnectionClosed",
  "SocketTimeout",
  "TooManyConnections",
]);

/**
 * Whether `error` (from Prisma over @prisma/adapter-pg, or from node-postgres directly) means that the
 * database is unreachable, the connection broke, or the server asks for the transaction to be run
 * again (deadlock, serialization failure) — rather than that the statement was refused.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (let current = error, depth = 0; current && depth < 6; depth++) {
    if (current instanceof Prisma.PrismaClientKnownRequestError) {
      if (PRISMA_CONNECTION_CODES.has(current.code)) return true;
      const adapter = (current.meta as { driverAdapterError?: { cause?: unknown } } | undefined)
        ?.driverAdapterError?.cause as { kind?: unknown; code?: unknown } | undefined;
      if (typeof adapter?.kind === "string" && ADAPTER_CONNECTION_KINDS.has(adapter.kind)) return true;
      if (adapter?.kind === "postgres" && typeof adapter.code === "string")
        return isTransientSqlState(adapter.code);
      return false;
    }
    if (current instanceof Prisma.PrismaClientInitializationError) return true;
    if (!(current instanceof Error)) return false;
    if (isPostgresFault(current)) return true;
    current = current.cause;
  }
  return false;
}

/** SQLSTATE too_many_connections: the server, the database or the role has no connection slot left. */
const TOO_MANY_CONNECTIONS = "53300";

/**
 * Whether `error` (from node-postgres, directly or as a cause) is PostgreSQL refusing a new connection
 * because every slot is taken (`sorry, too many clients already`, or a database's or role's
 * `CONNECTION LIMIT`): a busy server rather than one that is down, so a slot is usually free again
 * within moments.
 */
export function isOutOfConnections(error: unknown): boolean {
  for (let current = error, depth = 0; current instanceof Error && depth < 6; depth++) {
    if ((current as { code?: unknown }).code === TOO_MANY_CONNECTIONS) return true;
    current = current.cause;
  }
  return false;
}
