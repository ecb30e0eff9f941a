export { type CreatePrismaOptions, createPrisma } from "./client.ts";
export { ensureDatabase } from "./ensure-database.ts";
export { isDatabaseUnavailable } from "./faults.ts";
export type {
  GeneratedFile,
  LeaderLease,
  ModelCall,
  PhaseRun,
  PrismaClient,
  Session,
  SessionEvent,
  Vote,
} from "./generated/client.ts";
export { Prisma } from "./generated/client.ts";
export { DEFAULT_MIGRATIONS_DIR, type MigrateOptions, type MigrateResult, migrate } from "./migrate.ts";
export { MigrationError, type MigrationErrorCode, type MigrationErrorOptions } from "./migration-error.ts";
export { type ListenOptions, listen, type NotificationListener } from "./notifications.ts";
