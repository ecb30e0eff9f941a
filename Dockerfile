# One image for every Foundry process. Node 24 runs the TypeScript sources directly (type
# stripping): there is no build step, only dependencies and the generated Prisma client.
#
#   docker build -t foundry .
#   docker run ... foundry                                              # the API (default CMD)
#   docker run -e MALLOC_ARENA_MAX=2 -e MALLOC_MMAP_THRESHOLD_=65536 ... foundry node --max-semi-space-size=16 --heap-growing-percent=30 apps/worker/src/main.ts --queues anthropic
#   docker run ... foundry node packages/simulator/src/main.ts         # provider simulator
#
# docker-compose.yml runs all of them; see docs/docker.md. Only classic Dockerfile features are
# used (no BuildKit-only flags), so any builder can build it.

ARG NODE_IMAGE=node:24-slim

# ---- manifests: the lockfile, .npmrc and every workspace's package.json, nothing else --------
# Copying the whole context and deleting the rest keeps new workspaces from being forgotten. This
# stage reruns on any change, but its result only changes with a manifest, so the `npm ci` layers
# below stay cached while only sources change.
FROM ${NODE_IMAGE} AS manifests
WORKDIR /app
COPY . .
RUN find . -type f ! -name package.json ! -name package-lock.json ! -name .npmrc -delete \
  && find . -mindepth 1 -type d -empty -delete

# ---- prisma: generates the Prisma client into packages/db/src/generated ----------------------
# The prisma CLI is a devDependency of @foundry/db, so this stage installs that workspace's
# dependencies with dev ones and runs the root postinstall (scripts/prisma-generate.ts, offline).
# Only the generated client leaves this stage.
FROM ${NODE_IMAGE} AS prisma
WORKDIR /app
COPY --from=manifests /app/ ./
RUN npm ci --workspace=@foundry/db --ignore-scripts --no-audit --no-fund \
  && npm cache clean --force
COPY prisma.config.ts ./
COPY prisma/ ./prisma/
COPY scripts/prisma-generate.ts scripts/no-schema-engine.sh ./scripts/
RUN npm run postinstall

# ---- deps: production node_modules ---------------------------------------------------------
# --omit=dev drops the dev tools (biome, vitest, typescript, playwright-core, pglite) and
# --omit=optional drops what is optional at run time: the prisma CLI and typescript (optional peer
# dependencies of @prisma/client, otherwise kept as "devOptional"), the @embedded-postgres binaries
# (development only) and msgpackr-extract (a native speed-up msgpackr does without).
# --ignore-scripts: the root postinstall needs the prisma CLI; the client comes from the stage above.
# Then remove what nothing loads at run time: source maps, type declarations, and Prisma's query
# compilers for the databases other than PostgreSQL and in the build the client does not use (it is
# generated with compilerBuild = "small", prisma/schema.prisma).
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY --from=manifests /app/ ./
RUN npm ci --omit=dev --omit=optional --ignore-scripts --no-audit --no-fund \
  && npm cache clean --force \
  && find node_modules -type f \( -name '*.map' -o -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' \) -delete \
  && rm -f node_modules/@prisma/client/runtime/query_compiler_*.mysql.* \
    node_modules/@prisma/client/runtime/query_compiler_*.sqlite.* \
    node_modules/@prisma/client/runtime/query_compiler_*.sqlserver.* \
    node_modules/@prisma/client/runtime/query_compiler_*.cockroachdb.* \
    node_modules/@prisma/client/runtime/query_compiler_fast_*

# ---- runtime --------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime

# git: the workers commit each generated project (simple-git runs the git binary) and push it to
# GitHub over HTTPS (ca-certificates).
RUN apt-get update \
  && apt-get install -y --no-install-recommends git ca-certificates \
  && rm -rf /var/lib/apt/lists/*

# NODE_COMPILE_CACHE: Node's cache of compiled, type-stripped modules. A process whose modules are
# in it loads no TypeScript stripper (a worker starts with about 25 MB less RSS). The first start of
# a container fills it; the worker health checks that run every 30 s and every later start use it.
ENV NODE_ENV=production \
  WORKSPACE_DIR=/data/workspaces \
  NODE_COMPILE_CACHE=/tmp/node-compile-cache

# /data is the only writable place: generated projects live in $WORKSPACE_DIR (a volume in
# docker-compose.yml; a new named volume takes this directory's owner). The code stays root-owned.
RUN mkdir -p /data/workspaces && chown -R node:node /data

WORKDIR /app
# node_modules (workspace links included) with the manifests, then the generated client, then the
# sources (.dockerignore keeps node_modules, tests, .git and local data out of the context).
COPY --from=deps /app/ ./
COPY --from=prisma /app/packages/db/src/generated/ ./packages/db/src/generated/
COPY . .

# The `node` user (uid 1000) of the base image.
USER node

EXPOSE 3000

# The API's liveness probe. The worker services (no HTTP port) and the simulator override it in
# docker-compose.yml; workers use scripts/worker-healthcheck.ts.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]

CMD ["node", "apps/api/src/main.ts"]
