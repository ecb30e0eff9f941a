import { mkdir, mkdtemp, readFile, rm, stat, symlink, utimes } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { writeWorkspaceFiles } from "./write.ts";

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "foundry-write-"));
});
afterEach(() => rm(root, { recursive: true, force: true }));

/** Sets the file's modification time far in the past, so a rewrite shows. */
async function age(path: string): Promise<number> {
  const past = new Date("2020-01-01T00:00:00Z");
  await utimes(path, past, past);
  return (await stat(path)).mtimeMs;
}

describe("writeWorkspaceFiles", () => {
  it("leaves a file with the same content as it is, and rewrites one whose content changed", async () => {
    await writeWorkspaceFiles(root, [
      { path: "src/a.ts", content: "export const a = 1;\n" },
      { path: "src/b.ts", content: "export const b = 1;\n" },
      { path: "notes/é.md", content: "héllo\n" },
    ]);
    const same = await age(join(root, "src/a.ts"));
    const unicode = await age(join(root, "notes/é.md"));
    const changed = await age(join(root, "src/b.ts"));

    await writeWorkspaceFiles(root, [
      { path: "src/a.ts", content: "export const a = 1;\n" },
      // Same size, different bytes: compared by content, not by size.
      { path: "src/b.ts", content: "export const b = 2;\n" },
      { path: "notes/é.md", content: "héllo\n" },
      { path: "src/c.ts", content: "new\n" },
    ]);
    expect((await stat(join(root, "src/a.ts"))).mtimeMs).toBe(same);
    expect((await stat(join(root, "notes/é.md"))).mtimeMs).toBe(unicode);
    expect((await stat(join(root, "src/b.ts"))).mtimeMs).not.toBe(changed);
    expect(await readFile(join(root, "src/b.ts"), "utf8")).toBe("export const b = 2;\n");
    expect(await readFile(join(root, "src/c.ts"), "utf8")).toBe("new\n");
  });

  it("refuses a directory that is a link out of the workspace, and a link in a file's place", async () => {
    const outside = await mkdtemp(join(tmpdir(), "foundry-outside-"));
    try {
      await mkdir(join(root, "ok"));
      await symlink(outside, join(root, "src"));
      await expect(
        writeWorkspaceFiles(root, [
          { path: "ok/a.ts", content: "1" },
          { path: "src/b.ts", content: "2" },
        ]),
      ).rejects.toThrow("refusing to write src/b.ts: its directory resolves outside the workspace");
      // Directories are checked before any file is written: nothing was written.
      await expect(stat(join(root, "ok/a.ts"))).rejects.toThrow(/ENOENT/);
      await writeWorkspaceFiles(root, [{ path: "ok/a.ts", content: "1" }]);
      await symlink(join(outside, "x"), join(root, "ok/link.ts"));
      await expect(writeWorkspaceFiles(root, [{ path: "ok/link.ts", content: "3" }])).rejects.toThrow(
        "refusing to write ok/link.ts: a symlink is in the way",
      );
      expect(await readFile(join(root, "ok/a.ts"), "utf8")).toBe("1");
    } finally {
      await rm(outside, { recursive: true, force: true });
    }
  });

  it("writes nested directories and many files at once; a path given twice keeps its last content", async () => {
    const files = Array.from({ length: 40 }, (_, index) => ({
      path: `${["a", "a/b", "a/b/c", "d/e/f/g"][index % 4]}/file-${index}.ts`,
      content: `export const n = ${index};\n`,
    }));
    await writeWorkspaceFiles(root, [...files, { path: "a/file-0.ts", content: "last\n" }]);
    expect(await readFile(join(root, "a/b/c/file-2.ts"), "utf8")).toBe("export const n = 2;\n");
    expect(await readFile(join(root, "d/e/f/g/file-39.ts"), "utf8")).toBe("export const n = 39;\n");
    expect(await readFile(join(root, "a/file-0.ts"), "utf8")).toBe("last\n");
  });

  it("still refuses a path that leaves the workspace", async () => {
    await expect(writeWorkspaceFiles(root, [{ path: "../escape.txt", content: "x" }])).rejects.toThrow(
      /refusing to write/,
    );
  });
});
