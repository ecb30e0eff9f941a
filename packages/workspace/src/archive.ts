import { lstat, mkdtemp, realpath, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import type { PrismaClient } from "@foundry/db";
import { readArchiveFacts, readGeneratedFileContents, type SessionStatus } from "@foundry/store";
import { create } from "tar";
import { workspaceGit } from "./git.ts";
import { sessionWorkspace, writeWorkspaceFiles } from "./write.ts";

/**
 * What to archive from a workspace: git's own `.git` and the files of HEAD's tree, each a regular
 * file at its own path (no symlink anywhere along it), never anything else the folder holds. Null
 * when that cannot be vouched for (no `.git`, no commit yet, git refuses the repository, a committed
 * path is missing or is not a plain file): the caller then builds the archive from Postgres.
 */
async function committedEntries(root: string): Promise<string[] | null> {
  const gitDir = await lstat(join(root, ".git")).catch(() => null);
  if (!gitDir?.isDirectory()) return null;
  let listing: string;
  try {
    listing = await workspaceGit(root).raw(["ls-tree", "-r", "-z", "--full-tree", "HEAD"]);
  } catch {
    return null;
  }
  const realRoot = await realpath(root);
  const paths: string[] = [];
  for (const entry of listing.split("\0")) {
    if (entry === "") continue;
    // `<mode> <type> <object>\t<path>`; only regular files (100644, 100755) are ever committed here.
    const match = /^(100644|100755) blob [0-9a-f]+\t(.+)$/s.exec(entry);
    if (!match) return null;
    const path = match[2] as string;
    const stat = await lstat(join(root, path)).catch(() => null);
    const real = await realpath(join(root, path)).catch(() => null);
    if (!stat?.isFile() || real !== join(realRoot, path)) return null;
    paths.push(path);
  }
  return paths.length > 0 ? [".git", ...paths] : null;
}

/**
 * A gzipped tar of a session's project under a top-level folder named `folder`. When this process
 * can see the workspace and its git repository, the archive holds `.git` (the history) and the files
 * git committed — nothing else found in the folder; otherwise the files are materialised from
 * Postgres into a temporary directory that is removed once the stream ends.
 */
export async function archiveProject(
  root: string | null,
  folder: string,
  files: () => Promise<ReadonlyArray<{ path: string; content: string }>>,
): Promise<Readable> {
  // The folder becomes a path (the temporary directory's child, the entries' prefix): one plain name only.
  if (!/^(?!\.)[A-Za-z0-9._-]{1,100}$/.test(folder))
    throw new Error(`unsafe archive folder name ${JSON.stringify(folder)}`);
  const entries = root === null ? null : await committedEntries(root);
  if (root !== null && entries !== null) {
    return Readable.from(create({ gzip: true, portable: true, cwd: root, prefix: folder }, entries));
  }
  const temp = await mkdtemp(join(tmpdir(), "foundry-archive-"));
  const target = join(temp, folder);
  await writeWorkspaceFiles(target, await files());
  // tar's streams are minipass streams; Readable.from makes them Node streams (for Readable.toWeb).
  const stream = Readable.from(create({ gzip: true, portable: true, cwd: temp }, [folder]));
  const cleanup = () => void rm(temp, { recursive: true, force: true });
  stream.once("end", cleanup);
  stream.once("error", cleanup);
  stream.once("close", cleanup);
  return stream;
}

export type SessionArchive =
  | { ok: true; filename: string; stream: Readable }
  | { ok: false; code: "NOT_FOUND" }
  | { ok: false; code: "NO_FILES"; status: SessionStatus };

const SAFE_FOLDER = /^(?!\.)[A-Za-z0-9._-]{1,100}$/;

/**
 * A session's project as a `.tar.gz` named after its repository (or `foundry-<id>`), from the
 * workspace under `workspaceDir` when this process can see it, else from Postgres.
 */
export async function openSessionArchive(
  db: PrismaClient,
  workspaceDir: string,
  sessionId: string,
): Promise<SessionArchive> {
  const session = await readArchiveFacts(db, sessionId);
  if (!session) return { ok: false, code: "NOT_FOUND" };
  if (session.fileCount === 0) return { ok: false, code: "NO_FILES", status: session.status };
  const folder =
    session.repoName && SAFE_FOLDER.test(session.repoName)
      ? session.repoName
      : `foundry-${sessionId.slice(0, 8)}`;
  const stream = await archiveProject(sessionWorkspace(workspaceDir, sessionId), folder, () =>
    readGeneratedFileContents(db, sessionId),
  );
  return { ok: true, filename: `${folder}.tar.gz`, stream };
}
