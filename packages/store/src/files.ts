import { createHash } from "node:crypto";
import type { GeneratedFile } from "@foundry/contract";
import {
  executeSql,
  type GeneratedFile as GeneratedFileRow,
  Prisma,
  type PrismaClient,
  queryRows,
} from "@foundry/db";
import { sessionStatusOf } from "./columns.ts";
import { EVENTS_CHANNEL } from "./events.ts";
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
 * statement, under the session's row lock (taken first, as every writer of a session's rows does),
 * the files as one JSON parameter. An earlier attempt's file at the same path is replaced in place,
 * and its files at other paths are deleted.
 */
export async function replaceGeneratedFiles(
  db: PrismaClient,
  sessionId: string,
  files: readonly NewGeneratedFile[],
  options: { phase: string; workspace: string },
): Promise<void> {
  const root = options.workspace;
  const rows = files.map((file) => ({
    phase: file.phase,
    path: file.path,
    content: file.content,
    size_bytes: file.bytes,
    sha256: sha256(file.content),
    purpose: file.purpose,
    author: file.author,
  }));
  const bytes = files.reduce((sum, file) => sum + file.bytes, 0);
  const event = {
    message: `${files.length} files (${bytes} bytes) written to ${root}`,
    data: { count: files.length, workspace: root },
  };
  await executeSql(
    db,
    Prisma.sql`
    WITH s AS (SELECT id FROM sessions WHERE id = ${sessionId} FOR UPDATE),
    x AS (
      SELECT * FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
        AS x(phase text, path text, content text, size_bytes int, sha256 text, purpose text, author text)),
    gone AS (
      DELETE FROM generated_files AS f USING s
      WHERE f.session_id = s.id AND f.path NOT IN (SELECT path FROM x)),
    written AS (
      INSERT INTO generated_files (id, session_id, phase, path, content, size_bytes, sha256, purpose, author)
      SELECT gen_random_uuid(), s.id, x.phase, x.path, x.content, x.size_bytes, x.sha256, x.purpose, x.author
      FROM s, x
      ON CONFLICT (session_id, path) DO UPDATE SET phase = excluded.phase, content = excluded.content,
        size_bytes = excluded.size_bytes, sha256 = excluded.sha256, purpose = excluded.purpose,
        author = excluded.author, created_at = now()),
    workspace AS (
      UPDATE sessions SET workspace_path = ${root}, updated_at = now() FROM s WHERE sessions.id = s.id),
    appended AS (
      INSERT INTO session_events (session_id, type, phase, message, data, at)
      SELECT s.id, 'files.written', ${options.phase}, ${event.message}, ${JSON.stringify(event.data)}::jsonb,
        clock_timestamp()
      FROM s)
    SELECT pg_notify(${EVENTS_CHANNEL}, ${sessionId}) FROM s`,
  );
}

/** A session's files with their content, in path order (every column). */
export async function listGeneratedFiles(db: PrismaClient, sessionId: string): Promise<GeneratedFileRow[]> {
  return queryRows<GeneratedFileRow>(
    db,
    Prisma.sql`
    SELECT id, session_id AS "sessionId", phase, path, content, size_bytes AS "sizeBytes", sha256, purpose,
      author, created_at AS "createdAt"
    FROM generated_files WHERE session_id = ${sessionId} ORDER BY path`,
  );
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
