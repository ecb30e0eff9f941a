import { createServer } from "node:http";
import { join } from "node:path";
import { readJsonBody, sendError, sendJson, sendNoContent } from "./http-utils.js";
import { serveStatic } from "./static-files.js";
import { createTodoStore } from "./store.js";
import { validateNewTodo, validateTodoChanges } from "./validation.js";

const FRONTEND_DIR = join(import.meta.dirname, "..", "frontend");
const TODO_PATH = /^\/api\/todos\/([^/]+)$/;

/**
 * The HTTP server: the JSON API under /api and the frontend's files everywhere else.
 * Call `listen` on the result. Pass a store to share or inspect state in tests.
 */
export function createApp({ store = createTodoStore(), staticDir = FRONTEND_DIR } = {}) {
  return createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? "/", "http://localhost");
      if (url.pathname === "/api" || url.pathname.startsWith("/api/")) {
        await handleApi(req, res, url.pathname, store);
      } else if (!(await serveStatic(req, res, url.pathname, staticDir))) {
        sendError(res, 405, "Method not allowed", { allow: "GET, HEAD" });
      }
    } catch (error) {
      console.error(error);
      if (!res.headersSent) sendError(res, 500, "Internal server error");
      else res.end();
    }
  });
}

async function handleApi(req, res, pathname, store) {
  if (pathname === "/api/health") {
    if (req.method !== "GET") return sendError(res, 405, "Method not allowed", { allow: "GET" });
    return sendJson(res, 200, { status: "ok" });
  }

  if (pathname === "/api/todos") {
    if (req.method === "GET") return sendJson(res, 200, store.list());
    if (req.method === "POST") {
      const body = await readJsonBody(req);
      if (!body.ok) return sendError(res, body.status, body.error);
      const input = validateNewTodo(body.value);
      if (!input.ok) return sendError(res, 400, input.error);
      const todo = store.create(input.value);
      return sendJson(res, 201, todo, { location: `/api/todos/${todo.id}` });
    }
    return sendError(res, 405, "Method not allowed", { allow: "GET, POST" });
  }

  const match = TODO_PATH.exec(pathname);
  if (match) {
    const id = decodeURIComponent(match[1]);
    if (req.method === "GET") {
      const todo = store.get(id);
      return todo ? sendJson(res, 200, todo) : sendError(res, 404, `Todo ${id} not found`);
    }
    if (req.method === "PATCH") {
      if (!store.get(id)) return sendError(res, 404, `Todo ${id} not found`);
      const body = await readJsonBody(req);
      if (!body.ok) return sendError(res, body.status, body.error);
      const changes = validateTodoChanges(body.value);
      if (!changes.ok) return sendError(res, 400, changes.error);
      return sendJson(res, 200, store.update(id, changes.value));
    }
    if (req.method === "DELETE") {
      return store.remove(id) ? sendNoContent(res) : sendError(res, 404, `Todo ${id} not found`);
    }
    return sendError(res, 405, "Method not allowed", { allow: "GET, PATCH, DELETE" });
  }

  return sendError(res, 404, `No API route for ${pathname}`);
}
