import type { Prisma, PrismaClient } from "@foundry/db";

/** A client or a transaction: store functions work inside or outside one. */
export type Db = PrismaClient | Prisma.TransactionClient;

/** Event types of the session log, in the order a session usually produces them. */
export type EventType =
  | "session.submitted"
  | "session.started"
  | "phase.started"
  | "phase.waiting"
  | "phase.skipped"
  | "phase.succeeded"
  | "phase.failed"
  | "call.started"
  | "call.succeeded"
  | "call.reused"
  | "call.retrying"
  | "call.failed"
  | "provider.rate_limited"
  | "vote.recorded"
  | "decision.override"
  | "file.rejected"
  | "file.merged"
  | "files.written"
  | "git.committed"
  | "git.published"
  | "session.succeeded"
  | "session.failed";

export interface EventInput {
  sessionId: string;
  type: EventType;
  message: string;
  phase?: string | null;
  data?: Prisma.InputJsonValue;
}

/** Appends to a session's event log (the execution log the API and the dashboard show). */
export async function recordEvent(db: Db, event: EventInput): Promise<void> {
  await db.sessionEvent.create({
    data: {
      sessionId: event.sessionId,
      type: event.type,
      message: event.message,
      phase: event.phase ?? null,
      data: event.data,
    },
  });
}
