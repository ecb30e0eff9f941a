// Package boundaries, checked by `npm run check` (`node scripts/check-boundaries.ts [root]`). Fails,
// naming the file, line and import, when
//   - a file imports a workspace package by a path its package.json `exports` does not declare
//     (`@foundry/engine/src/…`), or reaches into another package by a relative path
//     (`../../engine/src/…`; also from test/, bench/ and scripts/): use the package's name;
//   - a file under packages/ or apps/, other than a `*.test.ts`, imports from the top-level test/;
//   - a file under packages/ imports an app (imports go apps → packages);
//   - a file under packages/ or apps/, other than a `*.test.ts` or one of @foundry/store and
//     @foundry/db, queries the database itself (`db.session.findMany(…)`, `db.$queryRaw…`): every
//     statement lives in @foundry/store, behind a function the others call.
// Exit code 0 when there is nothing to report, 1 otherwise.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { scanImports } from "./import-scanner.ts";

/** A workspace package: its name, directory (absolute) and the subpaths its `exports` declare. */
export interface Workspace {
  name: string;
  dir: string;
  exports: Set<string>;
  isApp: boolean;
}

/**
 * One import that crosses a boundary, or one database query outside the store (`kind: "query"`,
 * `specifier` then the call: `loginSession.deleteMany`, `$queryRaw`). `file` is relative to the root.
 */
export interface Violation {
  file: string;
  line: number;
  specifier: string;
  reason: string;
  kind?: "import" | "query";
}

/** The packages that may query the database: the store, and the client it is built on. */
const DATABASE_PACKAGES = new Set(["@foundry/store", "@foundry/db"]);
/** Prisma's model methods and raw-query methods: what a database query outside the store calls. */
const MODEL_METHODS =
  "findMany|findUnique|findUniqueOrThrow|findFirst|findFirstOrThrow|create|createMany|createManyAndReturn|update|updateMany|updateManyAndReturn|upsert|delete|deleteMany|count|aggregate|groupBy";
const RAW_QUERY = /\.(\$(?:queryRaw|queryRawUnsafe|executeRaw|executeRawUnsafe|transaction))\b/g;

/** The model delegates of the Prisma schema at `prisma/schema.prisma` (`model LoginSession` → `loginSession`). */
function modelDelegates(root: string): string[] {
  let schema: string;
  try {
    schema = readFileSync(join(root, "prisma", "schema.prisma"), "utf8");
  } catch {
    return [];
  }
  return [...schema.matchAll(/^model\s+(\w+)\s*\{/gm)].map(
    ([, name]) => name![0]!.toLowerCase() + name!.slice(1),
  );
}

/** `source` with its comments blanked (newlines kept, so line numbers hold). */
function withoutComments(source: string): string {
  return source
    .replace(/\/\*[\s\S]*?\*\//g, (comment) => comment.replace(/[^\n]/g, " "))
    .replace(/(^|[^:])\/\/.*$/gm, (_, before: string) => before);
}

/** The database queries in `source`: a model delegate's method, or a raw query or transaction. */
function findQueries(source: string, delegates: string[]): Array<{ call: string; line: number }> {
  const code = withoutComments(source);
  const lineOf = (index: number) => code.slice(0, index).split("\n").length;
  const found: Array<{ call: string; line: number }> = [];
  if (delegates.length > 0) {
    const model = new RegExp(`\\.(${delegates.join("|")})\\s*\\.\\s*(${MODEL_METHODS})\\s*\\(`, "g");
    for (const match of code.matchAll(model))
      found.push({ call: `${match[1]}.${match[2]}`, line: lineOf(match.index) });
  }
  for (const match of code.matchAll(RAW_QUERY)) found.push({ call: match[1]!, line: lineOf(match.index) });
  return found.sort((a, b) => a.line - b.line);
}

/** The top-level directories whose files are checked. */
const SCANNED_DIRS = ["packages", "apps", "test", "bench", "scripts"];
const SOURCE_FILE = /\.(ts|mts|cts|js|mjs|cjs)$/;
const SKIPPED_DIRS = new Set(["node_modules", "generated", "dist"]);

/** The workspaces named by the root package.json (`"packages/*"` style globs, or plain paths). */
export function readWorkspaces(root: string): Workspace[] {
  const manifest = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { workspaces?: string[] };
  const dirs: string[] = [];
  for (const pattern of manifest.workspaces ?? []) {
    if (pattern.endsWith("/*")) {
      const parent = join(root, pattern.slice(0, -2));
      for (const entry of readdirSync(parent, { withFileTypes: true })) {
        if (entry.isDirectory()) dirs.push(join(parent, entry.name));
      }
    } else dirs.push(join(root, pattern));
  }
  const workspaces: Workspace[] = [];
  for (const dir of dirs) {
    let pkg: { name?: string; exports?: unknown };
    try {
      pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
    } catch {
      continue;
    }
    if (!pkg.name) continue;
    const exports = new Set<string>();
    if (typeof pkg.exports === "string") exports.add(".");
    else if (pkg.exports && typeof pkg.exports === "object") {
      const keys = Object.keys(pkg.exports);
      // Conditions only (`{ "import": …, "default": … }`) describe ".".
      if (keys.every((key) => !key.startsWith("."))) exports.add(".");
      else for (const key of keys) exports.add(key);
    } else exports.add(".");
    const isApp = relative(root, dir).split(sep)[0] === "apps";
    workspaces.push({ name: pkg.name, dir: resolve(dir), exports, isApp });
  }
  return workspaces;
}

function* sourceFiles(dir: string): Generator<string> {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return;
  }
  for (const entry of entries) {
    if (entry.startsWith(".") || SKIPPED_DIRS.has(entry)) continue;
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) yield* sourceFiles(path);
    else if (SOURCE_FILE.test(entry) && !entry.endsWith(".d.ts")) yield path;
  }
}

function isInside(path: string, dir: string): boolean {
  return path === dir || path.startsWith(dir + sep);
}

/** Whether `subpath` (`./env`) matches one of the `exports` keys, including `./*` patterns. */
function isExported(exports: Set<string>, subpath: string): boolean {
  if (exports.has(subpath)) return true;
  for (const key of exports) {
    const star = key.indexOf("*");
    if (star === -1) continue;
    const [before, after] = [key.slice(0, star), key.slice(star + 1)];
    if (subpath.startsWith(before) && subpath.endsWith(after) && subpath.length >= key.length - 1)
      return true;
  }
  return false;
}

/** Every boundary violation in the files under `root`'s scanned directories. */
export function checkBoundaries(root: string): Violation[] {
  root = resolve(root);
  const workspaces = readWorkspaces(root);
  const byName = new Map(workspaces.map((workspace) => [workspace.name, workspace]));
  const owner = (path: string) => workspaces.find((workspace) => isInside(path, workspace.dir));
  const testDir = join(root, "test");
  const delegates = modelDelegates(root);
  const violations: Violation[] = [];

  for (const top of SCANNED_DIRS) {
    for (const path of sourceFiles(join(root, top))) {
      const file = relative(root, path);
      const from = owner(path);
      const inWorkspace = top === "packages" || top === "apps";
      const isTest = /\.test\.[cm]?[jt]s$/.test(path);
      const source = readFileSync(path, "utf8");
      if (inWorkspace && !isTest && !(from && DATABASE_PACKAGES.has(from.name))) {
        for (const { call, line } of findQueries(source, delegates)) {
          violations.push({
            file,
            line,
            specifier: call,
            kind: "query",
            reason: "queries the database outside @foundry/store; add a function to the store and call it",
          });
        }
      }
      for (const { specifier, line } of scanImports(source)) {
        const report = (reason: string) => violations.push({ file, line, specifier, reason });
        if (specifier.startsWith(".")) {
          const target = resolve(dirname(path), specifier);
          const to = owner(target);
          if (to && to !== from) {
            report(`reaches into ${to.name} by a relative path; import "${to.name}" instead`);
          } else if (inWorkspace && !isTest && isInside(target, testDir)) {
            report("imports the top-level test/ directory, which only tests may use");
          }
          continue;
        }
        const [scope, name, ...rest] = specifier.split("/");
        const packageName = scope?.startsWith("@") ? `${scope}/${name}` : scope!;
        const to = byName.get(packageName);
        if (!to) continue;
        const subpath = scope?.startsWith("@") ? rest : [name, ...rest].filter((part) => part !== undefined);
        const exported = subpath.length === 0 ? "." : `./${subpath.join("/")}`;
        if (!isExported(to.exports, exported)) {
          report(`${to.name} does not export "${exported}"; import "${to.name}" (or add it to its exports)`);
        } else if (from && !from.isApp && to.isApp) {
          report(`a package imports the app ${to.name}; imports go apps → packages`);
        }
      }
    }
  }
  return violations;
}

if (import.meta.main) {
  const root = process.argv[2] ?? join(import.meta.dirname, "..");
  const violations = checkBoundaries(root);
  for (const { file, line, specifier, reason, kind } of violations) {
    console.error(
      `${file}:${line}: ${kind === "query" ? `${specifier}(…)` : `import "${specifier}"`}: ${reason}`,
    );
  }
  if (violations.length > 0) {
    console.error(`check-boundaries: ${violations.length} import(s) or queries cross a package boundary`);
    process.exit(1);
  }
  console.log(
    "check-boundaries: no import crosses a package boundary, and only the store queries the database",
  );
}
