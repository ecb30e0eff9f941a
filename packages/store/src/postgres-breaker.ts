import { Prisma, type PrismaClient, queryRows } from "@foundry/db";
import type { BreakerAdmission, BreakerSettings, BreakerStore, BreakerTransition } from "./breaker-store.ts";

/** A breaker's row as its admission reads it (all null when it has none: closed, nothing counted). */
export interface BreakerRow {
  state: string | null;
  failures: number | null;
  opened_at: Date | null;
  retry_at: Date | null;
  probe_at: Date | null;
  last_error: string | null;
  probe: number | null;
}

/**
 * The admission of a request by the breaker `key` as one statement, returning one `BreakerRow`, and
 * `then` as column `gated` when the breaker lets the request go (null otherwise): what the request
 * does next in the same round trip (PostgresCallGate asks the limiter there).
 *
 * The UPDATE takes the probe slot for exactly one caller (concurrent updaters re-check its WHERE);
 * the SELECT sees the row as it was before, which is what the others are told.
 */
export function breakerAdmissionSql(
  key: string,
  settings: BreakerSettings,
  then: Prisma.Sql | null,
): Prisma.Sql {
  const cooldown = settings.cooldownMs / 1000;
  return Prisma.sql`
    WITH probe AS (
      UPDATE provider_breakers SET state = 'half_open', probe_at = now(), updated_at = now()
      WHERE key = ${key}
        AND ((state = 'open' AND retry_at <= now())
          OR (state = 'half_open' AND probe_at <= now() - make_interval(secs => ${cooldown})))
      RETURNING key
    ), b AS (
      SELECT b.state, b.failures, b.opened_at, b.retry_at, b.probe_at, b.last_error,
        (SELECT count(*) FROM probe)::int AS probe
      FROM provider_breakers AS b WHERE b.key = ${key}
    )
    SELECT b.*,
      CASE WHEN b.state IS NULL OR b.state = 'closed' OR b.probe > 0 THEN ${then ?? Prisma.sql`NULL`} END AS gated
    FROM (SELECT 1) AS one LEFT JOIN b ON true`;
}

/** What the breaker answered, from the row `breakerAdmissionSql` returned. */
export function admissionOf(row: BreakerRow | undefined, settings: BreakerSettings): BreakerAdmission {
  if (!row?.state || row.state === "closed") return { allowed: true, probe: false, clean: !row?.failures };
  if (row.probe) return { allowed: true, probe: true, clean: false };
  const retryAt =
    row.state === "half_open" && row.probe_at
      ? new Date(row.probe_at.getTime() + settings.cooldownMs)
      : (row.retry_at ?? new Date());
  return { allowed: false, openedAt: row.opened_at ?? new Date(), retryAt, lastError: row.last_error };
}

/** The breaker's state in PostgreSQL (`provider_breakers`), one atomic statement per operation. */
export class PostgresBreakerStore implements BreakerStore {
  readonly #db: PrismaClient;

  constructor(db: PrismaClient) {
    this.#db = db;
  }

  async admit(key: string, settings: BreakerSettings): Promise<BreakerAdmission> {
    const [row] = await queryRows<BreakerRow>(this.#db, breakerAdmissionSql(key, settings, null));
    return admissionOf(row, settings);
  }

  async success(key: string): Promise<boolean> {
    const rows = await this.#db.$queryRaw<Array<{ was: string }>>`
      UPDATE provider_breakers AS b SET state = 'closed', failures = 0, opened_at = NULL, retry_at = NULL,
        probe_at = NULL, updated_at = now()
      FROM provider_breakers AS old
      WHERE b.key = ${key} AND old.key = b.key AND (b.state <> 'closed' OR b.failures > 0)
      RETURNING old.state AS was`;
    return rows[0] !== undefined && rows[0].was !== "closed";
  }

  async failure(key: string, error: string, settings: BreakerSettings): Promise<BreakerTransition> {
    return this.#db.$transaction(async (tx) => {
      await tx.$executeRaw`
        INSERT INTO provider_breakers (key, state, failures) VALUES (${key}, 'closed', 0)
        ON CONFLICT (key) DO NOTHING`;
      // Under the row lock, so concurrent failures each count.
      const [old] = await tx.$queryRaw<Array<{ state: string; failures: number }>>`
        SELECT state, failures FROM provider_breakers WHERE key = ${key} FOR UPDATE`;
      const was = old?.state ?? "closed";
      const failures = was === "closed" ? (old?.failures ?? 0) + 1 : (old?.failures ?? 0);
      const opens = was === "half_open" || (was === "closed" && failures >= settings.failureThreshold);
      await tx.$executeRaw`
        UPDATE provider_breakers SET
          failures = ${failures},
          state = ${opens ? "open" : was},
          opened_at = CASE WHEN ${was === "closed" && opens} THEN now() ELSE opened_at END,
          retry_at = CASE WHEN ${opens} THEN now() + make_interval(secs => ${settings.cooldownMs / 1000}) ELSE retry_at END,
          probe_at = NULL,
          last_error = ${error.slice(0, 500)},
          updated_at = now()
        WHERE key = ${key}`;
      return { state: (opens ? "open" : was) as BreakerTransition["state"], opened: opens };
    });
  }
}
