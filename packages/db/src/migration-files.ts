import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { MigrationError } from "./migration-error.ts";

/** One `prisma/migrations/<name>/migration.sql`, as Prisma reads it. */
export interface MigrationFile {
  /** The directory name, e.g. `20261127051312_init`; the order migrations apply in. */
  name: string;
  sql: string;
  /** Lowercase hex SHA-256 of the raw file, the value Prisma stores in `_prisma_migrations.checksum`. */
  checksum: string;
}

/** Reads every migration directory under `dir`, sorted by name (Prisma's order). */
export async function readMigrationFiles(dir: string): Promise<MigrationFile[]> {
  let entries: { name: string; isDirectory(): boolean }[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (cause) {
    throw new MigrationError(`Migrations directory ${dir} cannot be read`, {
      code: "MIGRATIONS_DIR_INVALID",
      cause,
    });
  }
  const names = entries
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
  return Promise.all(
    names.map(async (name) => {
      const path = join(dir, name, "migration.sql");
      let bytes: Buffer;
      try {
        bytes = await readFile(path);
      } catch (cause) {
        throw new MigrationError(`Migration ${name} has no readable migration.sql (${path})`, {
          code: "MIGRATIONS_DIR_INVALID",
          migration: name,
          cause,
        });
      }
      // Hash the bytes as stored, as Prisma does, not a re-encoding of the decoded text.
      return {
        name,
        sql: bytes.toString("utf8"),
        checksum: createHash("sha256").update(bytes).digest("hex"),
      };
    }),
  );
}
