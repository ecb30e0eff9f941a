import { Client, DatabaseError, escapeIdentifier } from "pg";

// duplicate_database, and the unique index on pg_database that a concurrent CREATE DATABASE can hit first.
const ALREADY_EXISTS = new Set(["42P04", "23505"]);
// invalid_catalog_name: the maintenance database is missing (some hosted servers drop `postgres`).
const NO_SUCH_DATABASE = "3D000";

/**
 * Creates the database named in `databaseUrl` when it does not exist yet, as `prisma migrate deploy` does.
 * Connects to the server's `postgres` maintenance database (`template1` if that is missing) with the same
 * credentials. Safe to call from several processes at once: losing the race to create it is not an error.
 * @returns whether this call created the database.
 */
export async function ensureDatabase(databaseUrl: string): Promise<{ created: boolean }> {
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.slice(1));
  if (!name) throw new Error("The database URL names no database (expected …/<database> after the host)");

  let client: Client;
  try {
    client = await connectTo(url, "postgres");
  } catch (error) {
    if (!(error instanceof DatabaseError && error.code === NO_SUCH_DATABASE)) throw error;
    client = await connectTo(url, "template1");
  }
  try {
    const existing = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
    if (existing.rowCount) return { created: false };
    await client.query(`CREATE DATABASE ${escapeIdentifier(name)}`);
    return { created: true };
  } catch (error) {
    if (error instanceof DatabaseError && error.code !== undefined && ALREADY_EXISTS.has(error.code)) {
      return { created: false };
    }
    throw error;
  } finally {
    await client.end();
  }
}

async function connectTo(url: URL, database: string): Promise<Client> {
  const maintenance = new URL(url);
  maintenance.pathname = `/${database}`;
  const client = new Client({ connectionString: maintenance.toString() });
  client.on("error", () => {});
  await client.connect();
  return client;
}
