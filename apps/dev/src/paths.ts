import { fileURLToPath } from "node:url";

/** The repository root: `.data/` and the apps are found from here, whatever the working directory. */
export const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));
export const DATA_DIR = fileURLToPath(new URL("../../../.data/", import.meta.url));
export const API_MAIN = fileURLToPath(new URL("../../api/src/main.ts", import.meta.url));
export const WORKER_MAIN = fileURLToPath(new URL("../../worker/src/main.ts", import.meta.url));
