export { type CreatePrismaOptions, createPrisma, executeSql, queryRows, queryText } from "./client.ts";
export { ensureDatabase } from "./ensure-database.ts";
export { isDatabaseUnavailable, isOutOfConnections } from "./faults.ts";
export type {
  GeneratedFile,
  ModelCall,
  PhaseRun,
  PrismaClient,
  Session,
  SessionEvent,
  Vote,
} from "./generated/client.ts";
export { Prisma } from "./generated/client.ts";
export { type MigrateOptions, type MigrateResult, migrate } from "./migrate.ts";
export { MigrationError, type MigrationErrorCode, type MigrationErrorOptions } from "./migration-error.ts";
export { type ListenOptions, listen, type NotificationListener } from "./notifications.ts";
