-- Prisma's migration history table, column for column as its schema engine creates it, so that
-- `prisma migrate deploy` and `prisma migrate status` on a machine with the engine read the same history.
-- Contract: idempotent; run under the migration advisory lock by packages/db/src/migrate.ts.
-- One row per attempt to apply a migration:
--   finished_at null and rolled_back_at null  -> failed (or still running): blocks further migrations (P3009)
--   finished_at set                            -> applied
--   rolled_back_at set                         -> ignored (a person resolved a failure)
CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
);
