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
  return new PrismaClient({ adapter });
}
