import type { AuditAction, AuditOutcome } from "@foundry/contract";
import type { Prisma, PrismaClient } from "@foundry/db";

/** One row of the audit trail, as it is written. */
export interface NewAuditEntry {
  action: AuditAction;
  outcome: AuditOutcome;
  route: string;
  method: string;
  clientAddress: string;
  sessionId?: string | null;
  /** Small and never secret: statuses, error codes, workflow names, flags. */
  detail?: Prisma.InputJsonObject | null;
}

/** One row of the audit trail, as it is read. */
export interface AuditRecord {
  id: bigint;
  at: Date;
  action: string;
  outcome: string;
  route: string;
  method: string;
  clientAddress: string;
  sessionId: string | null;
  detail: Prisma.JsonValue | null;
}

/** Appends one row to the audit trail. */
export async function recordAudit(db: PrismaClient, entry: NewAuditEntry): Promise<void> {
  await db.auditEntry.create({
    data: {
      action: entry.action,
      outcome: entry.outcome,
      route: entry.route.slice(0, 300),
      method: entry.method,
      clientAddress: entry.clientAddress.slice(0, 100),
      sessionId: entry.sessionId ?? null,
      ...(entry.detail ? { detail: entry.detail } : {}),
    },
  });
}

/** A page of the audit trail, newest first; `before` is the id of the last row of the previous page. */
export async function listAudit(
  db: PrismaClient,
  options: { limit: number; before?: bigint },
): Promise<{ entries: AuditRecord[]; next: bigint | null }> {
  const rows = await db.auditEntry.findMany({
    where: options.before === undefined ? {} : { id: { lt: options.before } },
    orderBy: { id: "desc" },
    take: options.limit + 1,
  });
  const entries = rows.slice(0, options.limit);
  const last = entries.at(-1);
  return { entries, next: rows.length > options.limit && last ? last.id : null };
}

/** Deletes the rows older than `before`; returns how many. */
export async function pruneAudit(db: PrismaClient, before: Date): Promise<number> {
  const { count } = await db.auditEntry.deleteMany({ where: { at: { lt: before } } });
  return count;
}
