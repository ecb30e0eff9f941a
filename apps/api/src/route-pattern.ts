import type { Context } from "hono";
import { matchedRoutes, routePath } from "hono/route";

/**
 * The pattern of the route that answers (or would have answered) the request, such as
 * `/api/sessions/:id`, for metric labels and the audit trail: never the raw path, whose values are
 * unbounded. Read after `next()`. A request refused by a middleware (401, 413) is labelled with the
 * route it was meant for; one that no route matches is `null`.
 */
export function routePattern(c: Context): string | null {
  const routes = matchedRoutes(c);
  const responder = routes[c.req.routeIndex];
  if (responder && responder.method !== "ALL") return routePath(c);
  // Handlers run in registration order: the first handler route is the one that would have answered.
  return routes.find((route) => route.method !== "ALL")?.path ?? null;
}

/** The value of path parameter `name` of `pattern` in `path` (`:id` of `/api/sessions/:id/cancel`). */
export function patternParam(pattern: string, path: string, name: string): string | undefined {
  const index = pattern.split("/").indexOf(`:${name}`);
  if (index < 0) return undefined;
  const value = path.split("/")[index];
  if (value === undefined) return undefined;
  try {
    return decodeURIComponent(value);
  } catch {
    return undefined;
  }
}
