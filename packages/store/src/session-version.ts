import { readFileSync } from "node:fs";
import { type PrismaClient, queryText } from "@foundry/db";

const SESSION_VERSION = readFileSync(new URL("./sql/session-version.sql", import.meta.url), "utf8");

/**
 * A fingerprint that changes whenever the session's full view would (see sql/session-version.sql),
 * read without building the view: for ETags, so that a client polling an unchanged session costs
 * one small query. Null when the session does not exist.
 */
export async function sessionVersion(db: PrismaClient, sessionId: string): Promise<string | null> {
  const rows = await queryText<{ version: string }>(db, SESSION_VERSION, [sessionId]);
  return rows[0]?.version ?? null;
}
