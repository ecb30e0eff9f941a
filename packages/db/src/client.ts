import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "./generated/client.ts";

export interface CreatePrismaOptions {
  /**
   * Connections in this client's pool. Size it per process: API replicas × max plus workers × max must
   * stay under the server's `max_connections`.
   * @default 10 (node-postgres' default)
   */
  max?: number;
}

/**
 * A Prisma client on node-postgres through Prisma's driver adapter (no query-engine binary).
 * Connects lazily; call `$disconnect()` when done to close the pool.
 * @example
 * const prisma = createPrisma(env.DATABASE_URL, { max: 5 });
 */
export function createPrisma(databaseUrl: string, options: CreatePrismaOptions = {}): PrismaClient {
  const adapter = new PrismaPg({
    connectionString: databaseUrl,
    ...(options.max === undefined ? {} : { max: options.max }),
  });
  // Under load a transaction may wait for a pooled connection longer than Prisma's 2 s default, and
  // run longer than its 5 s default: waiting is better than failing a request or a job step.
  return new PrismaClient({ adapter, transactionOptions: { maxWait: 10_000, timeout: 30_000 } });
}
