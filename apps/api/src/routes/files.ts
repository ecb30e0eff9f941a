import { posix } from "node:path";
import { routes } from "@foundry/contract";
import type { PrismaClient } from "@foundry/db";
import { listSessionFiles, readSessionFile } from "@foundry/store";
import type { Hono } from "hono";
import { handle } from "../contract-route.ts";
import { ApiError } from "../errors.ts";

// What a session generated, from Postgres. File contents are model output: they are sent as plain
// text that a browser will not sniff into HTML or run, whatever the file's name says.

export interface FileRoutesDeps {
  db: PrismaClient;
}

/** `GET /api/sessions/{id}/files` and `GET /api/sessions/{id}/files/{path}`. */
export function fileRoutes(app: Hono, deps: FileRoutesDeps): void {
  handle(app, routes.listSessionFiles, async (c, { params: { id } }) => {
    const files = await listSessionFiles(deps.db, id);
    if (!files) throw new ApiError(404, "NOT_FOUND", `no session ${id}`);
    return c.json({ files });
  });

  handle(app, routes.getSessionFile, async (c, { params: { id, path } }) => {
    const found = await readSessionFile(deps.db, id, path);
    if (!found.ok) {
      switch (found.code) {
        case "SESSION_NOT_FOUND":
          throw new ApiError(404, "NOT_FOUND", `no session ${id}`);
        case "FILE_NOT_FOUND":
          throw new ApiError(404, "NOT_FOUND", `no file ${JSON.stringify(path)} in session ${id}`, {
            path,
          });
        default:
          return found satisfies never;
      }
    }
    const etag = `"${found.file.sha256}"`;
    return c.body(found.content, 200, {
      "Content-Type": "text/plain; charset=utf-8",
      "Content-Disposition": contentDisposition(found.file.path),
      "X-Content-Type-Options": "nosniff",
      // Even opened directly, the text runs nothing and loads nothing.
      "Content-Security-Policy": "default-src 'none'; sandbox",
      "Cache-Control": "private, no-cache",
      ETag: etag,
    });
  });
}

/** `inline` with the file's base name, ASCII-safe in `filename` and exact in `filename*`. */
function contentDisposition(path: string): string {
  const name = posix.basename(path);
  const ascii = name.replace(/[^A-Za-z0-9._-]/g, "_") || "file.txt";
  return `inline; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}
