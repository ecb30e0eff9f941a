import type { MiddlewareHandler } from "hono";
import { ApiError } from "./errors.ts";

const bodyMethods = /^(POST|PUT|PATCH|DELETE)$/;

/** Whether a `Content-Type` header names JSON (`application/json`, with or without parameters). */
export function isJsonContentType(header: string | undefined): boolean {
  return header?.split(";")[0]?.trim().toLowerCase() === "application/json";
}

/**
 * Requires `Content-Type: application/json` on every request body (415 otherwise). A browser can
 * send a cross-site form or `text/plain` body without asking first; a JSON content type makes it
 * ask (CORS preflight), which this API never grants. A request without a body (an action such as
 * a cancel) needs no content type. Mount it after the body limit: it may read the body to see
 * whether there is one.
 */
export function requireJsonBody(): MiddlewareHandler {
  return async (c, next) => {
    if (!bodyMethods.test(c.req.method)) return next();
    const type = c.req.header("content-type");
    if (isJsonContentType(type)) return next();
    // Hono caches what it read, so a later c.req.json() still sees the (empty) body.
    if ((await c.req.arrayBuffer()).byteLength === 0) return next();
    throw new ApiError(
      415,
      "UNSUPPORTED_MEDIA_TYPE",
      `the request body must be JSON sent with content-type: application/json (got ${type ? JSON.stringify(type.slice(0, 100)) : "no content-type"})`,
    );
  };
}
