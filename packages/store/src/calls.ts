import { Prisma, type PrismaClient, queryRows } from "@foundry/db";
import { callStatusOf, sessionStatusOf } from "./columns.ts";
import type { Db } from "./events.ts";
import type { CallStatus, SessionStatus } from "./status.ts";

// Reads of the journal of model calls besides the ones its write protocol makes (journal.ts): where a
// call stands, what went wrong last, who answered a phase.

/** Where a call stands now; null when it (and so its session) no longer exists. */
export interface CallState {
  status: CallStatus;
  error: string | null;
  leaseExpiresAt: Date | null;
  session: { status: SessionStatus };
}

/** A call's status, error and lease, with its session's status, in one query. */
export async function readCallState(
  db: Db,
  call: { idempotencyKey: string; sessionId: string },
): Promise<CallState | null> {
  const row = await db.modelCall.findUnique({
    where: { idempotencyKey: call.idempotencyKey },
    select: {
      status: true,
      error: true,
      leaseExpiresAt: true,
      session: { select: { status: true } },
    },
  });
  if (!row) return null;
  return {
    status: callStatusOf({ idempotencyKey: call.idempotencyKey, status: row.status }),
    error: row.error,
    leaseExpiresAt: row.leaseExpiresAt,
    session: { status: sessionStatusOf({ id: call.sessionId, status: row.session.status }) },
  };
}

/**
 * The session's unanswered call that failed last (or is still failing: no finish time yet), with its
 * error; null when none has an error.
 */
export async function lastCallError(db: PrismaClient, sessionId: string) {
  return db.modelCall.findFirst({
    where: { sessionId, error: { not: null }, status: { notIn: ["succeeded"] } },
    orderBy: [{ finishedAt: { sort: "desc", nulls: "first" } }, { createdAt: "desc" }],
    select: { provider: true, phase: true, callKey: true, attempts: true, error: true, errorCode: true },
  });
}

/** Provider, model and role of each answered call of the given phases, in one query (by call key). */
export async function answeredCallModels(
  db: PrismaClient,
  sessionId: string,
  phases: readonly string[],
): Promise<Array<{ phase: string; provider: string; model: string; role: string }>> {
  return queryRows(
    db,
    Prisma.sql`
    SELECT phase, provider, model, role FROM model_calls
    WHERE session_id = ${sessionId} AND phase = ANY(${[...phases]}::text[]) AND status = 'succeeded'
    ORDER BY call_key`,
  );
}
