import { type AuditEntry, auditEntrySchema, routes } from "@foundry/contract";
import type { PrismaClient } from "@foundry/db";
import { type AuditRecord, listAudit } from "@foundry/store";
import type { Hono } from "hono";
import { handle } from "../contract-route.ts";

const { action, outcome, detail: storedDetail } = auditEntrySchema.shape;

function auditView(row: AuditRecord): AuditEntry {
  const detail = storedDetail.safeParse(row.detail);
  return {
    id: row.id.toString(),
    at: row.at.toISOString(),
    action: action.parse(row.action),
    outcome: outcome.parse(row.outcome),
    route: row.route,
    method: row.method,
    clientAddress: row.clientAddress,
    sessionId: row.sessionId,
    detail: detail.success ? detail.data : null,
  };
}

/** `GET /api/audit`: the audit trail, newest first, keyset-paginated by id. */
export function auditRoutes(app: Hono, deps: { db: PrismaClient }): void {
  handle(app, routes.listAudit, async (c, { query }) => {
    const page = await listAudit(deps.db, {
      limit: query.limit,
      before: query.cursor === undefined ? undefined : BigInt(query.cursor),
    });
    return c.json({
      items: page.entries.map(auditView),
      nextCursor: page.next === null ? null : page.next.toString(),
    });
  });
}
