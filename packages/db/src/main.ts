// Database command line: `node packages/db/src/main.ts migrate [--migrations-dir <path>]`.
// Creates the database named by DATABASE_URL if needed, then applies pending migrations (what
// `prisma migrate deploy` does, without Prisma's engine). Exit code 1 on any failure.
import { parseArgs } from "node:util";
import { ensureDatabase } from "./ensure-database.ts";
import { migrate } from "./migrate.ts";

const USAGE = "usage: node packages/db/src/main.ts migrate [--migrations-dir <path>]  (reads DATABASE_URL)";

async function main(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    return 1;
  }
  if (parsed.positionals.length !== 1 || parsed.positionals[0] !== "migrate") {
    console.error(USAGE);
    return 1;
  }
  const databaseUrl = env.DATABASE_URL;
  if (!databaseUrl) {
    console.error("DATABASE_URL is not set: it must name the PostgreSQL database to migrate.");
    return 1;
  }

  const target = describe(databaseUrl);
  try {
    const { created } = await ensureDatabase(databaseUrl);
    if (created) console.log(`Created database ${target}`);
    const dir = parsed.values["migrations-dir"];
    await migrate(databaseUrl, {
      ...(dir === undefined ? {} : { migrationsDir: dir }),
      log: (line) => console.log(line),
    });
    return 0;
  } catch (error) {
    console.error(`Migrating ${target} failed: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}

function parse(argv: string[]) {
  return parseArgs({ args: argv, allowPositionals: true, options: { "migrations-dir": { type: "string" } } });
}

/** host:port/database, never the credentials. */
function describe(databaseUrl: string): string {
  try {
    const url = new URL(databaseUrl);
    return `${url.host}${url.pathname}`;
  } catch {
    return "(unparseable DATABASE_URL)";
  }
}

process.exitCode = await main(process.argv.slice(2), process.env);
