import { readFile } from "node:fs/promises";
import { extname, join, resolve, sep } from "node:path";

const CONTENT_TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".svg": "image/svg+xml",
  ".ico": "image/x-icon",
};

/**
 * Serves a file from `rootDir` for GET/HEAD; `/` is `index.html`. Paths that leave the folder,
 * and files that do not exist, are 404. Returns false when the method is not GET or HEAD.
 */
export async function serveStatic(req, res, pathname, rootDir) {
  if (req.method !== "GET" && req.method !== "HEAD") return false;
  const root = resolve(rootDir);
  let relative;
  try {
    relative = decodeURIComponent(pathname === "/" ? "/index.html" : pathname);
  } catch {
    relative = "";
  }
  const file = resolve(join(root, relative));
  const contentType = CONTENT_TYPES[extname(file)];
  if (!relative || !file.startsWith(root + sep) || !contentType) return notFound(res);
  let content;
  try {
    content = await readFile(file);
  } catch {
    return notFound(res);
  }
  res.writeHead(200, { "content-type": contentType, "content-length": content.length });
  res.end(req.method === "HEAD" ? undefined : content);
  return true;
}

function notFound(res) {
  res.writeHead(404, { "content-type": "text/plain; charset=utf-8" });
  res.end("Not found");
  return true;
}
