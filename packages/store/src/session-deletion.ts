import type { PrismaClient } from "@foundry/db";
import { sessionStatusOf } from "./columns.ts";
import { isTerminalSession, type SessionStatus } from "./status.ts";

/** What deleting needs to know first: the status and the latest run; null when there is no session. */
export async function readSessionRun(
  db: PrismaClient,
  sessionId: string,
): Promise<{ status: SessionStatus; run: number } | null> {
  const row = await db.session.findUnique({ where: { id: sessionId }, select: { status: true, run: true } });
  return row ? { status: sessionStatusOf({ id: sessionId, status: row.status }), run: row.run } : null;
}

/**
 * Deletes a session's rows (phases, calls, files, votes and events go with it: ON DELETE CASCADE)
 * if it has still ended and is still at `run`, under its row lock, so a retry that came in meanwhile
 * (which makes it queued under a new run) wins. Returns whether it deleted, else the status found.
 */
export async function deleteEndedSession(
  db: PrismaClient,
  sessionId: string,
  run: number,
): Promise<{ deleted: true } | { deleted: false; status: SessionStatus | null }> {
  return db.$transaction(async (tx) => {
    const rows = await tx.$queryRaw<Array<{ status: string; run: number }>>`
      SELECT status, run FROM sessions WHERE id = ${sessionId} FOR UPDATE`;
    const row = rows[0];
    if (!row) return { deleted: false, status: null };
    if (!isTerminalSession(row.status) || row.run !== run) {
      return { deleted: false, status: sessionStatusOf({ id: sessionId, status: row.status }) };
    }
    await tx.session.delete({ where: { id: sessionId } });
    return { deleted: true };
  });
}
