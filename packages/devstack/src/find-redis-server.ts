import { accessSync, constants, statSync } from "node:fs";
import { delimiter, join, resolve } from "node:path";

/** Where package managers put redis-server when it is not on PATH (e.g. sbin dirs outside a user's PATH). */
export const COMMON_REDIS_DIRS: readonly string[] = [
  "/usr/local/bin",
  "/usr/bin",
  "/usr/sbin",
  "/usr/local/sbin",
  "/opt/homebrew/bin",
  "/home/linuxbrew/.linuxbrew/bin",
  "/snap/bin",
];

export interface FindRedisServerOptions {
  /** A PATH-style list of directories. @default process.env.PATH */
  path?: string;
  /** Searched after `path`. @default COMMON_REDIS_DIRS */
  fallbackDirs?: readonly string[];
}

/** The directories findRedisServer searches, in order. */
export function redisSearchDirs(options: FindRedisServerOptions = {}): string[] {
  const path = options.path ?? process.env.PATH ?? "";
  const dirs = [...path.split(delimiter), ...(options.fallbackDirs ?? COMMON_REDIS_DIRS)];
  return [...new Set(dirs.filter((dir) => dir !== "").map((dir) => resolve(dir)))];
}

/** The absolute path of an executable `redis-server`, or null when there is none. */
export function findRedisServer(options: FindRedisServerOptions = {}): string | null {
  for (const dir of redisSearchDirs(options)) {
    const candidate = join(dir, "redis-server");
    if (isExecutableFile(candidate)) return candidate;
  }
  return null;
}

function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
