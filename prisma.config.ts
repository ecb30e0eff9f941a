// Prisma 7 reads the datasource URL here, not from the schema. `generate` needs no database;
// an empty URL keeps it working on a machine where DATABASE_URL is unset.
import { defineConfig } from "prisma/config";

export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
  datasource: { url: process.env.DATABASE_URL ?? "" },
});
