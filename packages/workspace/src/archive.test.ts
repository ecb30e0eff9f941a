import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { list } from "tar";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { archiveProject } from "./archive.ts";
import { commitPhases, openRepository } from "./git.ts";
import { writeWorkspaceFiles } from "./write.ts";

const committed = [
  { path: "package.json", content: "{}\n" },
  { path: "src/app.js", content: "console.log('hi');\n" },
];

/** Every entry name of a gzipped tar stream. */
async function entriesOf(stream: Readable): Promise<string[]> {
  const names: string[] = [];
  await pipeline(stream, list({ onReadEntry: (entry) => names.push(entry.path) }));
  return names.sort();
}

describe("a session's archive", () => {
  let root: string;
  let outside: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), "archive-ws-"));
    outside = await mkdtemp(join(tmpdir(), "archive-outside-"));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
    await rm(outside, { recursive: true, force: true });
  });

  async function commitProject() {
    await writeWorkspaceFiles(root, committed);
    await openRepository(root);
    await commitPhases(root, null, [
      { sessionId: "s", request: "r", phase: "implementation", title: "t", files: committed, models: [] },
    ]);
  }

  const fromPostgres = async () => [{ path: "from-postgres.txt", content: "postgres\n" }];

  it("holds git's .git and the committed files, never anything else found in the folder", async () => {
    await commitProject();
    // What someone (or something) left in the workspace besides the commits.
    await writeFile(join(root, "secret.env"), "TOKEN=hunter2\n");
    await writeFile(join(root, "src", "notes.txt"), "untracked\n");
    await mkdir(join(root, "node_modules", "x"), { recursive: true });
    await writeFile(join(root, "node_modules", "x", "index.js"), "evil\n");

    const names = await entriesOf(await archiveProject(root, "proj", fromPostgres));
    const outsideGit = names.filter((name) => !name.startsWith("proj/.git/"));
    expect(outsideGit).toEqual(["proj/package.json", "proj/src/app.js"]);
    expect(names).toContain("proj/.git/HEAD");
    expect(names.some((name) => name.startsWith("proj/.git/objects/"))).toBe(true);
  });

  it("falls back to Postgres when a committed file was swapped for a symlink or its folder for a link", async () => {
    await commitProject();
    await writeFile(join(outside, "app.js"), "stolen\n");
    await rm(join(root, "src"), { recursive: true });
    await symlink(outside, join(root, "src"));
    const names = await entriesOf(await archiveProject(root, "proj", fromPostgres));
    expect(names).toEqual(["proj/", "proj/from-postgres.txt"]);
  });

  it("falls back to Postgres while the repository has no commit", async () => {
    await writeWorkspaceFiles(root, committed);
    await openRepository(root);
    const names = await entriesOf(await archiveProject(root, "proj", fromPostgres));
    expect(names).toEqual(["proj/", "proj/from-postgres.txt"]);
  });
});
