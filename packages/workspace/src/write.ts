import { lstat, mkdir, readFile, realpath, writeFile } from "node:fs/promises";
import { dirname, join, relative, resolve, sep } from "node:path";
import { checkGeneratedPath } from "./paths.ts";

/** The directory of one session's generated project. */
export function sessionWorkspace(workspaceDir: string, sessionId: string): string {
  return join(resolve(workspaceDir), sessionId);
}

/**
 * Writes files under `root`, refusing (again, at the last moment) anything that would land
 * outside it: each path is re-checked, and each parent directory is resolved through symlinks. A
 * file already there with the same content is left as it is (the git phase re-materialises the
 * files phase's output, which is usually on disk already), so it is not written, and flushed to
 * disk, twice.
 */
export async function writeWorkspaceFiles(
  root: string,
  files: ReadonlyArray<{ path: string; content: string }>,
): Promise<void> {
  await mkdir(root, { recursive: true });
  const realRoot = await realpath(root);
  /** Directories already created and resolved inside the workspace by this call. */
  const checkedDirectories = new Set<string>([realRoot]);
  for (const file of files) {
    const checked = checkGeneratedPath(file.path);
    if (!checked.ok) throw new Error(`refusing to write ${JSON.stringify(file.path)}: ${checked.reason}`);
    const target = join(realRoot, checked.path);
    const directory = dirname(target);
    if (!checkedDirectories.has(directory)) {
      await mkdir(directory, { recursive: true });
      const parent = await realpath(directory);
      if (parent !== realRoot && !parent.startsWith(realRoot + sep)) {
        throw new Error(`refusing to write ${checked.path}: its directory resolves outside the workspace`);
      }
      checkedDirectories.add(directory);
    }
    const existing = await lstat(target).catch(() => null);
    if (existing?.isSymbolicLink() || existing?.isDirectory()) {
      throw new Error(
        `refusing to write ${checked.path}: a ${existing.isDirectory() ? "directory" : "symlink"} is in the way`,
      );
    }
    if (relative(realRoot, target).startsWith("..")) throw new Error(`refusing to write ${checked.path}`);
    const content = Buffer.from(file.content, "utf8");
    if (existing?.isFile() && existing.size === content.length) {
      const current = await readFile(target).catch(() => null);
      if (current?.equals(content)) continue;
    }
    await writeFile(target, content);
  }
}
