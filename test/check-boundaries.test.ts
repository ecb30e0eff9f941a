// scripts/check-boundaries.ts (run by `npm run check`) on small workspaces written to a temp dir, and
// the import scanner it uses on the forms of import it must and must not see.
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { checkBoundaries } from "../scripts/check-boundaries.ts";
import { scanImports } from "../scripts/import-scanner.ts";

const run = promisify(execFile);
const script = join(import.meta.dirname, "..", "scripts", "check-boundaries.ts");

let root: string | undefined;
afterEach(async () => {
  if (root) await rm(root, { recursive: true, force: true });
  root = undefined;
});

/** A workspace with two packages and an app, plus `files` (path → content). */
async function workspace(files: Record<string, string>): Promise<string> {
  root = await mkdtemp(join(tmpdir(), "foundry-boundaries-"));
  const all: Record<string, string> = {
    "package.json": JSON.stringify({ workspaces: ["packages/*", "apps/*"] }),
    "packages/engine/package.json": JSON.stringify({
      name: "@foundry/engine",
      exports: { ".": "./src/index.ts", "./testing": "./src/testing.ts" },
    }),
    "packages/engine/src/index.ts": 'export { run } from "./run.ts";\n',
    "packages/engine/src/run.ts": "export const run = 1;\n",
    "packages/queue/package.json": JSON.stringify({
      name: "@foundry/queue",
      exports: { ".": "./src/index.ts" },
    }),
    "packages/queue/src/index.ts": "export const queue = 1;\n",
    "apps/worker/package.json": JSON.stringify({ name: "@foundry/worker" }),
    "test/support/db.ts": "export const db = 1;\n",
    ...files,
  };
  for (const [path, content] of Object.entries(all)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), content);
  }
  return root;
}

describe("checkBoundaries", () => {
  it("passes imports through package names and declared exports", async () => {
    const dir = await workspace({
      "apps/worker/src/main.ts": [
        'import { run } from "@foundry/engine";',
        'import { helper } from "@foundry/engine/testing";',
        'import { queue } from "@foundry/queue";',
        'import { local } from "./local.ts";',
        'const { z } = await import("zod");',
      ].join("\n"),
      "apps/worker/src/local.ts": "export const local = 1;\n",
      "packages/engine/src/run.test.ts": 'import { db } from "../../../test/support/db.ts";\n',
      "test/flow.test.ts": 'import { run } from "@foundry/engine";\nimport { db } from "./support/db.ts";\n',
    });
    expect(checkBoundaries(dir)).toEqual([]);
    const { stdout } = await run(process.execPath, [script, dir]);
    expect(stdout).toContain("no import crosses a package boundary");
  });

  it("names each deep import, relative reach into another package, test/ import and app import", async () => {
    const dir = await workspace({
      "apps/worker/src/main.ts": [
        'import { run } from "@foundry/engine/src/run.ts";',
        "// import { ignored } from '@foundry/engine/src/ignored.ts';",
        'export { queue } from "../../../packages/queue/src/index.ts";',
      ].join("\n"),
      "packages/engine/src/stack.ts": [
        'import { db } from "../../../test/support/db.ts";',
        'const worker = await import("@foundry/worker");',
      ].join("\n"),
      "bench/rate.ts": 'import type { Run } from "../packages/engine/src/run.ts";\n',
    });
    const violations = checkBoundaries(dir).map(
      ({ file, line, specifier }) => `${file}:${line} ${specifier}`,
    );
    expect(violations.sort()).toEqual(
      [
        "apps/worker/src/main.ts:1 @foundry/engine/src/run.ts",
        "apps/worker/src/main.ts:3 ../../../packages/queue/src/index.ts",
        "bench/rate.ts:1 ../packages/engine/src/run.ts",
        "packages/engine/src/stack.ts:1 ../../../test/support/db.ts",
        "packages/engine/src/stack.ts:2 @foundry/worker",
      ].sort(),
    );
    const failed = await run(process.execPath, [script, dir]).then(
      () => undefined,
      (error: { code: number; stderr: string }) => error,
    );
    expect(failed?.code).toBe(1);
    expect(failed?.stderr).toContain(
      'apps/worker/src/main.ts:1: import "@foundry/engine/src/run.ts": @foundry/engine does not export "./src/run.ts"',
    );
  });
});

describe("checkBoundaries on database queries", () => {
  const schema = "model LoginSession {\n  idHash String @id\n}\n\nmodel Session {\n  id String @id\n}\n";

  it("names each model method, raw query and transaction outside the store, and nothing else", async () => {
    const dir = await workspace({
      "prisma/schema.prisma": schema,
      "packages/store/package.json": JSON.stringify({
        name: "@foundry/store",
        exports: { ".": "./src/index.ts" },
      }),
      "packages/store/src/index.ts": [
        "export const read = (db) => db.session.findMany({});",
        "export const ping = (db) => db.$queryRaw`select 1`;",
      ].join("\n"),
      "apps/worker/src/main.ts": [
        "await db.loginSession.deleteMany({});",
        "// db.session.findMany({}) in a comment",
        "const rows = await this.#db",
        "  .$queryRawUnsafe(sql);",
        "await prisma.session",
        "  .update({ where: {} });",
        "await db.$transaction(async (tx) => {});",
        "const copy = Object.create(null); const list = items.count(); const other = db.unknown.findMany();",
      ].join("\n"),
      "packages/engine/src/run.test.ts": "await db.session.findMany({});\n",
      "test/flow.test.ts": "await db.session.findMany({});\n",
      "bench/rate.ts": "await db.session.count();\n",
    });
    const violations = checkBoundaries(dir).map(
      ({ file, line, specifier, kind }) => `${kind} ${file}:${line} ${specifier}`,
    );
    expect(violations).toEqual([
      "query apps/worker/src/main.ts:1 loginSession.deleteMany",
      "query apps/worker/src/main.ts:4 $queryRawUnsafe",
      "query apps/worker/src/main.ts:5 session.update",
      "query apps/worker/src/main.ts:7 $transaction",
    ]);
    const failed = await run(process.execPath, [script, dir]).then(
      () => undefined,
      (error: { code: number; stderr: string }) => error,
    );
    expect(failed?.code).toBe(1);
    expect(failed?.stderr).toContain(
      "apps/worker/src/main.ts:1: loginSession.deleteMany(…): queries the database outside @foundry/store",
    );
  });
});

describe("scanImports", () => {
  it("finds static, type-only, re-export, side-effect, require and dynamic imports", () => {
    const source = [
      'import a, { b } from "a";',
      "import type { C } from 'c';",
      'import "side-effect";',
      "import {",
      "  d,",
      '} from "d";',
      'export * as e from "e";',
      'export type { F } from "f";',
      'import g = require("g");',
      'const h = await import("h");',
    ].join("\n");
    expect(scanImports(source)).toEqual([
      { specifier: "a", line: 1 },
      { specifier: "c", line: 2 },
      { specifier: "side-effect", line: 3 },
      { specifier: "d", line: 6 },
      { specifier: "e", line: 7 },
      { specifier: "f", line: 8 },
      { specifier: "g", line: 9 },
      { specifier: "h", line: 10 },
    ]);
  });

  it("ignores comments, strings, templates, regular expressions and non-imports", () => {
    const source = [
      '// import x from "comment";',
      '/* export * from "block"; */',
      'const s = "import y from \\"string\\"";',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the source text of a template literal
      'const t = `import z from "template" ${`nested ${1}`} import("t")`;',
      'const r = /import w from "regex"/;',
      "export const value = { import: 1 };",
      "export { value as other };",
      'const url = new URL("x", import.meta.url);',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the source text of a template literal
      'const dynamic = await import(`./${"name"}.ts`);',
      'export function f() { return "from"; }',
    ].join("\n");
    expect(scanImports(source)).toEqual([]);
  });
});
