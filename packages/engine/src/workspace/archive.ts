import { access, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import type { PrismaClient } from "@foundry/db";
import { create } from "tar";
import { sessionWorkspace, writeWorkspaceFiles } from "./write.ts";

/**
 * A gzipped tar of a session's project under a top-level folder named `folder`. The workspace
 * (with its git history) is used when this process can see it; otherwise the files are
 * materialised from Postgres into a temporary directory that is removed once the stream ends.
 */
export async function archiveProject(
  root: string | null,
  folder: string,
  files: () => Promise<ReadonlyArray<{ path: string; content: string }>>,
): Promise<Readable> {
  // The folder becomes a path (the temporary directory's child, the entries' prefix): one plain name only.
  if (!/^(?!\.)[A-Za-z0-9._-]{1,100}$/.test(folder))
    throw new Error(`unsafe archive folder name ${JSON.stringify(folder)}`);
  const visible =
    root !== null &&
    (await access(join(root, ".git")).then(
      () => true,
      () => false,
    ));
  if (visible) {
    return Readable.from(
      create({ gzip: true, portable: true, cwd: root, prefix: folder }, await readdir(root)),
    );
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
  | { ok: false; code: "NO_FILES"; status: string };

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
  const session = await db.session.findUnique({
    where: { id: sessionId },
    select: { status: true, repoName: true, _count: { select: { files: true } } },
  });
  if (!session) return { ok: false, code: "NOT_FOUND" };
  if (session._count.files === 0) return { ok: false, code: "NO_FILES", status: session.status };
  const folder =
    session.repoName && SAFE_FOLDER.test(session.repoName)
      ? session.repoName
      : `foundry-${sessionId.slice(0, 8)}`;
  const stream = await archiveProject(sessionWorkspace(workspaceDir, sessionId), folder, () =>
    db.generatedFile.findMany({ where: { sessionId }, select: { path: true, content: true } }),
  );
  return { ok: true, filename: `${folder}.tar.gz`, stream };
}
