// Generates the Prisma client offline (npm 11 runs the root postinstall, not dependencies' scripts).
// Prisma's CLI insists on a schema-engine binary even for `generate`, which never uses it; we point it
// at scripts/no-schema-engine.sh, which explains itself and exits 1 if a migrate command ever reaches it.
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const fakeEngine = fileURLToPath(new URL("./no-schema-engine.sh", import.meta.url));
chmodSync(fakeEngine, 0o755);
const prismaBin = fileURLToPath(new URL("../node_modules/prisma/build/index.js", import.meta.url));
if (!existsSync(prismaBin)) {
  console.error("prisma-generate: node_modules/prisma is missing; run npm ci first");
  process.exit(1);
}
const result = spawnSync(process.execPath, [prismaBin, "generate"], {
  stdio: "inherit",
  env: {
    ...process.env,
    PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? fakeEngine,
    PRISMA_HIDE_UPDATE_MESSAGE: "1",
    CHECKPOINT_DISABLE: "1",
  },
});
process.exit(result.status ?? 1);
