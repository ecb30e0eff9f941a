import type { z } from "zod";

// The shape of one route of the contract: enough for the API to validate its input and for the
// OpenAPI document to describe it.

export type HttpMethod = "get" | "post" | "delete";

/** One possible answer of a route. */
export interface ResponseContract {
  description: string;
  /** The body, by media type (`application/json`, `text/event-stream`, …). */
  content?: Readonly<Record<string, z.ZodType>>;
  /** Response headers worth documenting (`ETag`, `Location`, `Content-Disposition`, …). */
  headers?: z.ZodObject;
}

export interface RouteContract {
  /** A stable name: the client method and the OpenAPI `operationId`. */
  operationId: string;
  method: HttpMethod;
  /** OpenAPI style: `/api/sessions/{id}`. */
  path: string;
  summary: string;
  description?: string;
  tags: readonly string[];
  /** Routes that need no token (health checks). @default true */
  auth?: boolean;
  /**
   * Path parameters. A parameter that fails its schema is answered as a resource that does not
   * exist (404 naming it), as for an unknown id.
   */
  params?: z.ZodObject;
  /** Query parameters; an unknown or bad one is a 400 naming it. */
  query?: z.ZodObject;
  /** Request headers worth documenting (`Last-Event-ID`, `If-None-Match`). */
  headers?: z.ZodObject;
  /** A JSON body (`content-type: application/json`). */
  body?: z.ZodType;
  /** The body may be left out (it is then read as `{}`). @default false */
  optionalBody?: boolean;
  /**
   * Path parameters that may contain `/`, with the pattern the router matches them with
   * (e.g. `{ path: ".+" }` for a file path).
   */
  greedyParams?: Readonly<Record<string, string>>;
  responses: Readonly<Record<number, ResponseContract>>;
}

/** Hono's form of a contract path: `/api/sessions/{id}` → `/api/sessions/:id`. */
export function routerPath(route: Pick<RouteContract, "path" | "greedyParams">): string {
  return route.path.replace(/\{(\w+)\}/g, (_, name: string) => {
    const pattern = route.greedyParams?.[name];
    return pattern ? `:${name}{${pattern}}` : `:${name}`;
  });
}
