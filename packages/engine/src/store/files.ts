import type { GeneratedFile } from "@foundry/contract";
import type { PrismaClient } from "@foundry/db";
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
