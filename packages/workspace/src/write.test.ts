import { mkdtemp, readFile, rm, stat, utimes } from "node:fs/promises";
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

  it("still refuses a path that leaves the workspace", async () => {
    await expect(writeWorkspaceFiles(root, [{ path: "../escape.txt", content: "x" }])).rejects.toThrow(
      /refusing to write/,
    );
  });
});
