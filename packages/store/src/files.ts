import { createHash } from "node:crypto";
import type { GeneratedFile } from "@foundry/contract";
import type { PrismaClient } from "@foundry/db";
import { sessionStatusOf } from "./columns.ts";
import { inSession, recordEvent } from "./events.ts";
import type { SessionStatus } from "./status.ts";
import { fileView } from "./views.ts";

// The files a session generated, as stored in Postgres (`generated_files`): the workspace on disk
// may be on another machine, or gone, and the database is the source of truth.

/** A session's files in path order (metadata only); null when the session does not exist. */
export async function listSessionFiles(db: PrismaClient, sessionId: string): Promise<GeneratedFile[] | null> {
  const session = await db.session.findUnique({
    where: { id: sessionId },
    select: { files: { orderBy: { path: "asc" }, omit: { content: true } } },
  });
  return session ? session.files.map(fileView) : null;
}

export type SessionFileContent =
  | { ok: true; file: GeneratedFile; content: string }
  | { ok: false; code: "SESSION_NOT_FOUND" }
  | { ok: false; code: "FILE_NOT_FOUND" };

/** One generated file with its content. */
export async function readSessionFile(
  db: PrismaClient,
  sessionId: string,
  path: string,
): Promise<SessionFileContent> {
  const file = await db.generatedFile.findUnique({ where: { sessionId_path: { sessionId, path } } });
  if (file) return { ok: true, file: fileView(file), content: file.content };
  const exists = (await db.session.count({ where: { id: sessionId } })) > 0;
  return exists ? { ok: false, code: "FILE_NOT_FOUND" } : { ok: false, code: "SESSION_NOT_FOUND" };
}

/** A file a files phase accepted, to be stored. */
export interface NewGeneratedFile {
  path: string;
  content: string;
  purpose: string | null;
  /** The role that wrote it. */
  author: string;
  /** The phase that produced it. */
  phase: string;
  /** Its size in bytes (UTF-8). */
  bytes: number;
}

/**
 * Makes `files` the session's whole set of files (the ones of an earlier attempt go), records the
 * workspace they are written to and a `files.written` event of the phase `options.phase`: one
 * transaction under the session's row lock.
 */
export async function replaceGeneratedFiles(
  db: PrismaClient,
  sessionId: string,
  files: readonly NewGeneratedFile[],
  options: { phase: string; workspace: string },
): Promise<void> {
  const root = options.workspace;
  await inSession(db, sessionId, async (tx) => {
    await tx.generatedFile.deleteMany({ where: { sessionId } });
    // The rows as one JSON parameter: one fixed statement whatever their number.
    const rows = files.map((file) => ({
      phase: file.phase,
      path: file.path,
      content: file.content,
      size_bytes: file.bytes,
      sha256: sha256(file.content),
      purpose: file.purpose,
      author: file.author,
    }));
    await tx.$executeRaw`
      INSERT INTO generated_files (id, session_id, phase, path, content, size_bytes, sha256, purpose, author)
      SELECT gen_random_uuid(), ${sessionId}, x.phase, x.path, x.content, x.size_bytes, x.sha256, x.purpose, x.author
      FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
        AS x(phase text, path text, content text, size_bytes int, sha256 text, purpose text, author text)`;
    await tx.session.update({ where: { id: sessionId }, data: { workspacePath: root } });
    await recordEvent(tx, {
      sessionId,
      phase: options.phase,
      type: "files.written",
      message: `${files.length} files (${files.reduce((sum, file) => sum + file.bytes, 0)} bytes) written to ${root}`,
      data: { count: files.length, workspace: root },
    });
  });
}

/** A session's files with their content, in path order (every column). */
export async function listGeneratedFiles(db: PrismaClient, sessionId: string) {
  return db.generatedFile.findMany({ where: { sessionId }, orderBy: { path: "asc" } });
}

/** A session's files as paths and contents only, in no particular order. */
export async function readGeneratedFileContents(
  db: PrismaClient,
  sessionId: string,
): Promise<Array<{ path: string; content: string }>> {
  return db.generatedFile.findMany({ where: { sessionId }, select: { path: true, content: true } });
}

/** What archiving a session's project needs to know first; null when the session does not exist. */
export async function readArchiveFacts(
  db: PrismaClient,
  sessionId: string,
): Promise<{ status: SessionStatus; repoName: string | null; fileCount: number } | null> {
  const session = await db.session.findUnique({
    where: { id: sessionId },
    select: { status: true, repoName: true, _count: { select: { files: true } } },
  });
  if (!session) return null;
  return {
    status: sessionStatusOf({ id: sessionId, status: session.status }),
    repoName: session.repoName,
    fileCount: session._count.files,
  };
}

function sha256(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}
