import { FoundryError } from "@foundry/errors";

/**
 * Why applying migrations stopped. The `P30xx` codes are Prisma's own for the same situations, so
 * Prisma's documentation on resolving them applies (https://pris.ly/d/migrate-resolve).
 * - `P3009`: the database records a migration that failed earlier; nothing new is applied until it is
 *   resolved (fix the database, then mark the row rolled back or applied).
 * - `P3018`: a migration failed just now; its error is stored in `_prisma_migrations.logs`.
 * - `MIGRATIONS_DIR_INVALID`: the migrations folder is missing or a migration has no `migration.sql`.
 */
export type MigrationErrorCode = "P3009" | "P3018" | "MIGRATIONS_DIR_INVALID";

export interface MigrationErrorOptions {
  code: MigrationErrorCode;
  /** The migration at fault (its directory name), when there is one. */
  migration?: string;
  cause?: unknown;
}

/** Migrations could not be applied. Retrying never helps: a person has to act. */
export class MigrationError extends FoundryError {
  override readonly name = "MigrationError";
  declare readonly code: MigrationErrorCode;
  readonly migration: string | undefined;

  constructor(message: string, options: MigrationErrorOptions) {
    super(message, { code: options.code, isRetryable: false, cause: options.cause });
    this.migration = options.migration;
  }

  static is(value: unknown): value is MigrationError {
    return value instanceof MigrationError;
  }
}
