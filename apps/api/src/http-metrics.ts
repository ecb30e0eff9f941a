import type { FoundryMetrics } from "@foundry/metrics";
import type { MiddlewareHandler } from "hono";
import { patternParam, routePattern } from "./route-pattern.ts";

/** Label of the requests no route matches (their paths are not labels: anyone can invent them). */
export const UNMATCHED_ROUTE = "(unmatched)";

/** One answered request, for an access log: no header, query or body (they may carry secrets). */
export interface RequestLogEntry {
  method: string;
  route: string;
  path: string;
  status: number;
  durationMs: number;
  sessionId?: string;
}

/**
 * Counts every request and its latency by method, route pattern and status, and hands it to
 * `logRequest` when given. Mount it first, so that requests refused by other middleware (401, 403,
 * 413) are counted too.
 */
export function httpMetrics(
  metrics: FoundryMetrics,
  logRequest?: (entry: RequestLogEntry, message: string) => void,
): MiddlewareHandler {
  return async (c, next) => {
    const started = performance.now();
    try {
      await next();
    } finally {
      const pattern = routePattern(c);
      const entry: RequestLogEntry = {
        method: c.req.method,
        route: pattern ?? UNMATCHED_ROUTE,
        path: c.req.path.slice(0, 300),
        status: c.res.status,
        durationMs: Math.round((performance.now() - started) * 10) / 10,
      };
      metrics.observeHttp(entry);
      const sessionId = pattern ? patternParam(pattern, c.req.path, "id") : undefined;
      logRequest?.(sessionId ? { ...entry, sessionId } : entry, "request");
    }
  };
}
