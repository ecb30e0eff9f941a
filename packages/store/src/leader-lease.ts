import { executeSql, Prisma, type PrismaClient, queryRows } from "@foundry/db";

// Leases in `leader_leases` elect one process of the cluster for a singleton task (the reconciler):
// whoever holds the row named for the task, unexpired, leads.

/**
 * Takes the lease `name` for `owner` until `leaseMs` from now (the database's clock), or renews it:
 * only when it is free, expired or already the owner's. Returns whether `owner` holds it. One statement.
 */
export async function takeLeaderLease(
  db: PrismaClient,
  name: string,
  owner: string,
  leaseMs: number,
): Promise<boolean> {
  const rows = await queryRows<{ owner: string }>(
    db,
    Prisma.sql`
    INSERT INTO leader_leases (name, owner, expires_at)
    VALUES (${name}, ${owner}, now() + make_interval(secs => ${leaseMs / 1000}))
    ON CONFLICT (name) DO UPDATE SET owner = EXCLUDED.owner, expires_at = EXCLUDED.expires_at
      WHERE leader_leases.owner = EXCLUDED.owner OR leader_leases.expires_at < now()
    RETURNING owner`,
  );
  return rows.length > 0;
}

/** Gives the lease `name` up, when `owner` holds it (so another process may lead at once). */
export async function releaseLeaderLease(db: PrismaClient, name: string, owner: string): Promise<void> {
  await executeSql(db, Prisma.sql`DELETE FROM leader_leases WHERE name = ${name} AND owner = ${owner}`);
}
