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
  // Every path is checked before anything is written; a path given twice is written once, with its
  // last content.
  const targets = new Map<string, { path: string; content: string }>();
  for (const file of files) {
    const checked = checkGeneratedPath(file.path);
    if (!checked.ok) throw new Error(`refusing to write ${JSON.stringify(file.path)}: ${checked.reason}`);
    const target = join(realRoot, checked.path);
    if (relative(realRoot, target).startsWith("..")) throw new Error(`refusing to write ${checked.path}`);
    targets.set(target, { path: checked.path, content: file.content });
  }
  // Then each directory is created and resolved inside the workspace before any file goes into it,
  // and the files are written at once: a dozen files are a few dozen file-system calls, each a trip
  // through libuv's thread pool, which one after another took most of the files phase.
  const directories = new Map<string, string>();
  for (const [target, file] of targets) {
    const directory = dirname(target);
    if (directory !== realRoot && !directories.has(directory)) directories.set(directory, file.path);
  }
  await settleAll(
    [...directories].map(async ([directory, path]) => {
      await mkdir(directory, { recursive: true });
      const resolved = await realpath(directory);
      if (resolved !== realRoot && !resolved.startsWith(realRoot + sep)) {
        throw new Error(`refusing to write ${path}: its directory resolves outside the workspace`);
      }
    }),
  );
  await settleAll([...targets].map(([target, file]) => writeOne(target, file.path, file.content)));
}

/** Writes one checked file, unless the same content is already there. */
async function writeOne(target: string, path: string, text: string): Promise<void> {
  const existing = await lstat(target).catch(() => null);
  if (existing?.isSymbolicLink() || existing?.isDirectory()) {
    throw new Error(
      `refusing to write ${path}: a ${existing.isDirectory() ? "directory" : "symlink"} is in the way`,
    );
  }
  const content = Buffer.from(text, "utf8");
  if (existing?.isFile() && existing.size === content.length) {
    const current = await readFile(target).catch(() => null);
    if (current?.equals(content)) return;
  }
  await writeFile(target, content);
}

/** Waits for every operation (none is left running), then throws the first failure. */
async function settleAll(operations: ReadonlyArray<Promise<void>>): Promise<void> {
  const failed = (await Promise.allSettled(operations)).find((result) => result.status === "rejected");
  if (failed) throw failed.reason;
}
