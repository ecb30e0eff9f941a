// Telling "PostgreSQL is unavailable" apart from "PostgreSQL refused this statement", for errors of
// node-postgres (`pg`), which both the Prisma adapter (@foundry/db) and BullMQ's PostgreSQL backend
// (@foundry/queue) run on. The first is an infrastructure fault: the same thing is tried again once
// the server is back; the second is a bug or bad data and fails normally.

/**
 * SQLSTATEs of a server that is going away, starting, overloaded, or that asks for the transaction to
 * be run again: class 08 (connection exception), 53 (insufficient resources), 57P01–57P03 (shutdown,
 * crash shutdown, cannot connect now), 40001 and 40P01 (serialization failure, deadlock).
 */
export function isTransientSqlState(code: string): boolean {
  return (
    code.startsWith("08") ||
    code.startsWith("53") ||
    /^57P0[1-3]$/.test(code) ||
    code === "40001" ||
    code === "40P01"
  );
}

/** Socket failures Node reports with a `code` and a `syscall`: the peer refused, reset, vanished. */
const SOCKET_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EHOSTUNREACH",
]);

/** Whether `error` itself is a socket failure (see SOCKET_CODES), whichever client met it. */
export function isSocketFailure(error: Error): boolean {
  const { code, syscall } = error as { code?: unknown; syscall?: unknown };
  return typeof code === "string" && typeof syscall === "string" && SOCKET_CODES.has(code);
}

// node-postgres throws plain Errors for a broken or closed client; their messages are its constants.
const PG_CONNECTION_MESSAGES = [
  "Connection terminated",
  "Client has encountered a connection error and is not queryable",
  "Client was closed and is not queryable",
  "timeout exceeded when trying to connect",
];

/**
 * Whether `error` itself (not its causes) is node-postgres saying that the server could not be
 * reached, that the connection broke, or that the server asks for the transaction to be run again
 * (an error the server sent, with a transient SQLSTATE; a socket failure; a client it closed).
 */
export function isPostgresFault(error: Error): boolean {
  if (isSocketFailure(error)) return true;
  const { code } = error as { code?: unknown };
  // An error the server sent: node-postgres gives it the SQLSTATE as `code`, and a `severity`.
  if (typeof code === "string" && /^[0-9A-Z]{5}$/.test(code) && "severity" in error) {
    return isTransientSqlState(code);
  }
  return PG_CONNECTION_MESSAGES.some((message) => error.message.startsWith(message));
}

/** {@link isPostgresFault} of `error` or of one of its causes. */
export function isPostgresUnavailable(error: unknown): boolean {
  for (let current = error, depth = 0; current instanceof Error && depth < 6; depth++) {
    if (isPostgresFault(current)) return true;
    current = current.cause;
  }
  return false;
}
