import { type RouteContract, routerPath } from "@foundry/contract";
import type { Context, Hono } from "hono";
import type { z } from "zod";
import { ApiError, parseInput } from "./errors.ts";

// Registers a handler for a route of the contract: the path and method come from the contract,
// and so do the schemas its input is checked with, so what the API accepts is what the OpenAPI
// document says.

type Parsed<R, K extends string> = R extends { [key in K]: infer S extends z.ZodType }
  ? z.output<S>
  : undefined;

/** A route's input, checked and typed by its contract. */
export interface RouteInput<R extends RouteContract> {
  params: Parsed<R, "params">;
  query: Parsed<R, "query">;
  body: Parsed<R, "body">;
}

/** What a path parameter names, for the 404 of a value that cannot be one. */
const PARAM_NOUNS: Record<string, string> = { id: "session", name: "workflow", path: "file", file: "file" };

/**
 * Adds `route` to `app`: a path parameter that fails its schema is a 404 naming it (a malformed id
 * is an unknown id); a bad query parameter (or an unknown one) or body is a 400 naming the field; a
 * body that is not JSON is a 400 INVALID_JSON.
 */
export function handle<R extends RouteContract>(
  app: Hono,
  route: R,
  handler: (c: Context, input: RouteInput<R>) => Response | Promise<Response>,
): void {
  app.on(route.method.toUpperCase(), routerPath(route), async (c) => {
    const params = route.params ? parseParams(route.params, c.req.param()) : undefined;
    const query = route.query ? parseInput(route.query, c.req.query(), "query") : undefined;
    let body: unknown;
    if (route.body) {
      const text = await c.req.text();
      body = parseInput(route.body, text.trim() === "" && route.optionalBody ? {} : parseJson(text), "body");
    }
    return handler(c, { params, query, body } as RouteInput<R>);
  });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiError(400, "INVALID_JSON", "the request body must be a JSON object");
  }
}

function parseParams(schema: z.ZodObject, raw: Record<string, string>): unknown {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const key = String(parsed.error.issues[0]?.path[0] ?? "");
  const value = raw[key] ?? "";
  throw new ApiError(
    404,
    "NOT_FOUND",
    `no ${PARAM_NOUNS[key] ?? key} ${JSON.stringify(value.slice(0, 200))}`,
  );
}
