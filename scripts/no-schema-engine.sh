#!/bin/sh
# Stand-in for Prisma's schema-engine binary, which cannot be downloaded offline.
# `prisma generate` never runs it; anything that does (migrate, db push) ends here.
echo "schema-engine is not installed: migrations are applied by @foundry/db (npm run db:migrate)," >&2
echo "and new migrations are written with scripts/migration-diff.ts. See README, 'Database'." >&2
exit 1
