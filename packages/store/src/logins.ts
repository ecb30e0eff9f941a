import { readFileSync } from "node:fs";
import { Prisma, type PrismaClient, queryRows, queryText } from "@foundry/db";

const COUNT_ATTEMPT = readFileSync(new URL("./sql/login-attempt.sql", import.meta.url), "utf8");

/**
 * Stores a browser sign-in by the hash of its id, valid until `expiresAt`. Expired sign-ins are
 * swept here, where new rows come in, so the table stays small.
 */
export async function insertLoginSession(db: PrismaClient, idHash: string, expiresAt: Date): Promise<void> {
  await db.loginSession.deleteMany({ where: { expiresAt: { lt: new Date() } } });
  await db.loginSession.create({ data: { idHash, expiresAt } });
}

/** When the sign-in with this id hash expires, or null when there is none (signed out, or never). */
export async function loginSessionExpiry(db: PrismaClient, idHash: string): Promise<Date | null> {
  const row = await db.loginSession.findUnique({ where: { idHash }, select: { expiresAt: true } });
  return row?.expiresAt ?? null;
}

/** Deletes the sign-in with this id hash. Deleting one that is already gone is not an error. */
export async function deleteLoginSession(db: PrismaClient, idHash: string): Promise<void> {
  await db.loginSession.deleteMany({ where: { idHash } });
}

/**
 * Counts one sign-in attempt by `client` in the current fixed window of `windowSeconds`, in one
 * statement shared by every API replica (see sql/login-attempt.sql). Returns this window's count,
 * this attempt included, and the whole seconds until the window ends (at least 1).
 */
export async function countLoginAttempt(
  db: PrismaClient,
  client: string,
  windowSeconds: number,
): Promise<{ attempts: number; retryAfterSeconds: number }> {
  const rows = await queryText<{ attempts: number; retry_after: number }>(db, COUNT_ATTEMPT, [
    client,
    windowSeconds,
  ]);
  const row = rows[0];
  if (!row) throw new Error("counting a login attempt returned no row");
  return { attempts: row.attempts, retryAfterSeconds: row.retry_after };
}

/**
 * One round trip to the database (`select 1`) on the client's pool: resolves when it answers, rejects
 * otherwise. It starts no Prisma engine, so a readiness probe costs a statement and nothing more.
 */
export async function pingDatabase(db: PrismaClient): Promise<void> {
  await queryRows(db, Prisma.sql`select 1`);
}
