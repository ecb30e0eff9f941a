import type { PrismaClient } from "@foundry/db";

/**
 * How many sessions there are in each status (statuses without any are absent): one `GROUP BY` on
 * the `(status, progress_at)` index, for the metrics gauge read at every scrape.
 */
export async function countSessionsByStatus(db: PrismaClient): Promise<Record<string, number>> {
  const rows = await db.session.groupBy({ by: ["status"], _count: { _all: true } });
  return Object.fromEntries(rows.map((row) => [row.status, row._count._all]));
}
