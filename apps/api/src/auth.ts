import { createHash, timingSafeEqual } from "node:crypto";
import type { MiddlewareHandler } from "hono";
import { getCookie } from "hono/cookie";
import { errorBody } from "./errors.ts";

export const SESSION_COOKIE = "foundry_token";

const digest = (value: string) => createHash("sha256").update(value).digest();

/** Compares in constant time (hashing first makes the lengths equal). */
export function tokenMatches(expected: string, given: string | undefined): boolean {
  if (!given) return false;
  return timingSafeEqual(digest(expected), digest(given));
}

/** The token a request presents: `Authorization: Bearer …`, or the login cookie for a browser. */
export function presentedToken(header: string | undefined, cookie: string | undefined): string | undefined {
  const match = header ? /^Bearer\s+(.+)$/i.exec(header) : null;
  return match?.[1]?.trim() ?? cookie;
}

/**
 * Requires the API token. JSON clients get 401; `onPage` lets browser pages redirect to the login
 * page instead.
 */
export function requireToken(
  token: string,
  options: { onPage?: (path: string) => Response } = {},
): MiddlewareHandler {
  return async (c, next) => {
    const given = presentedToken(c.req.header("authorization"), getCookie(c, SESSION_COOKIE));
    if (tokenMatches(token, given)) return next();
    const wantsPage =
      options.onPage && c.req.method === "GET" && (c.req.header("accept") ?? "").includes("text/html");
    if (wantsPage && options.onPage) return options.onPage(c.req.path);
    c.header("WWW-Authenticate", 'Bearer realm="foundry"');
    return c.json(
      errorBody(
        "UNAUTHORIZED",
        given ? "the API token is not valid" : "missing API token: send Authorization: Bearer <API_TOKEN>",
      ),
      401,
    );
  };
}
