import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import type { Context, MiddlewareHandler } from "hono";
import { getCookie } from "hono/cookie";
import { errorBody } from "./errors.ts";
import type { LoginSessions } from "./login-sessions.ts";

/** The browser's login cookie. It holds a value derived from the token, never the token itself. */
export const SESSION_COOKIE = "foundry_login";

/** How long a browser login lasts. */
export const LOGIN_TTL_SECONDS = 12 * 3600;

const digest = (value: string) => createHash("sha256").update(value).digest();

/** Compares in constant time (hashing first makes the lengths equal). */
export function tokenMatches(expected: string, given: string | undefined): boolean {
  if (!given) return false;
  return timingSafeEqual(digest(expected), digest(given));
}

/** The token of an `Authorization: Bearer …` header, if the request sends one. */
export function bearerToken(header: string | undefined): string | undefined {
  const match = header ? /^Bearer\s+(.+)$/i.exec(header) : null;
  return match?.[1]?.trim();
}

/** What authenticates a request: the API token, and the browser sign-ins made with it. */
export interface Auth {
  token: string;
  sessions: LoginSessions;
}

const loginMac = (token: string, id: string, expiresAt: number) =>
  createHmac("sha256", token).update(`foundry-login.${id}.${expiresAt}`).digest("base64url");

/**
 * The login cookie's value: `<sign-in id>.<expiry in unix seconds>.<MAC>`, the MAC being
 * HMAC-SHA256(token, "foundry-login.<id>.<expiry>"). The raw token never reaches the browser;
 * changing the token signs every browser out; the server refuses the value after its expiry
 * whatever the browser does with Max-Age; and the id names a row in Postgres that signing out
 * deletes, so a copy of the cookie is worthless once its owner signed out.
 */
export function loginCookieValue(token: string, id: string, expiresAt: number): string {
  return `${id}.${expiresAt}.${loginMac(token, id, expiresAt)}`;
}

/**
 * The sign-in a login cookie names, when the value was issued for this token and has not expired;
 * whether the sign-in still exists is for {@link LoginSessions.isActive} to say.
 */
export function parseLoginCookie(
  token: string,
  value: string | undefined,
  now = Date.now(),
): { id: string; expiresAt: number } | null {
  const match = value ? /^([A-Za-z0-9_-]{22})\.(\d{1,12})\.([A-Za-z0-9_-]{43})$/.exec(value) : null;
  if (!match) return null;
  const id = match[1] as string;
  const expiresAt = Number(match[2]);
  // Check the MAC before the clock so that the answer's timing says nothing about the MAC.
  const macOk = tokenMatches(loginMac(token, id, expiresAt), match[3]);
  return macOk && expiresAt * 1000 > now ? { id, expiresAt } : null;
}

/**
 * Whether the request carries the token: as a bearer header, or else as the cookie of a sign-in
 * that is still active in Postgres.
 */
export async function isAuthenticated(c: Context, auth: Auth): Promise<boolean> {
  const bearer = bearerToken(c.req.header("authorization"));
  if (bearer !== undefined) return tokenMatches(auth.token, bearer);
  const login = parseLoginCookie(auth.token, getCookie(c, SESSION_COOKIE));
  return login !== null && (await auth.sessions.isActive(login.id));
}

const safeMethod = /^(GET|HEAD|OPTIONS)$/;

/**
 * Refuses state-changing requests that a browser marks as coming from another site: an `Origin`
 * whose host is not the request's host, or a `Sec-Fetch-Site` other than `same-origin`/`none`.
 * The SameSite=Strict login cookie already keeps cross-site requests unauthenticated; this is the
 * second lock. Requests without these headers (curl, SDKs) pass: they are not a browser's.
 * Hosts are compared rather than whole origins so that a TLS-terminating proxy, which makes the
 * app see `http:` for an `https:` page, does not lock operators out.
 *
 * With `unlessBearer`, a request that carries `Authorization: Bearer …` is not checked: it is not
 * authenticated by the ambient cookie (the bearer header decides alone), and a page on another site
 * cannot add that header without a CORS preflight, which this API never grants.
 */
export function refuseCrossSiteWrites(options: { unlessBearer?: boolean } = {}): MiddlewareHandler {
  return async (c, next) => {
    if (safeMethod.test(c.req.method)) return next();
    if (options.unlessBearer && bearerToken(c.req.header("authorization")) !== undefined) return next();
    const fetchSite = c.req.header("sec-fetch-site");
    const origin = c.req.header("origin");
    const crossSite =
      (fetchSite !== undefined && fetchSite !== "same-origin" && fetchSite !== "none") ||
      (origin !== undefined && originHost(origin) !== new URL(c.req.url).host);
    if (!crossSite) return next();
    return c.json(
      errorBody(
        "CROSS_SITE_REQUEST",
        "refused: this request comes from another site (Origin/Sec-Fetch-Site)",
      ),
      403,
    );
  };
}

function originHost(origin: string): string | null {
  try {
    return new URL(origin).host || null;
  } catch {
    return null; // includes the opaque origin "null"
  }
}

/**
 * Requires the API token, as `Authorization: Bearer <token>` or as the login cookie set by
 * `POST /login` (while that sign-in is active). JSON clients get 401; `onPage` lets browser pages
 * (a GET that accepts HTML) redirect to the login page instead. It receives the path and query
 * that were asked for.
 */
export function requireToken(
  auth: Auth,
  options: { onPage?: (target: string) => Response } = {},
): MiddlewareHandler {
  return async (c, next) => {
    if (await isAuthenticated(c, auth)) return next();
    const wantsPage =
      options.onPage && c.req.method === "GET" && (c.req.header("accept") ?? "").includes("text/html");
    if (wantsPage && options.onPage) {
      const url = new URL(c.req.url);
      return options.onPage(`${url.pathname}${url.search}`);
    }
    c.header("WWW-Authenticate", 'Bearer realm="foundry"');
    const bearer = bearerToken(c.req.header("authorization"));
    const cookie = getCookie(c, SESSION_COOKIE);
    const message =
      bearer !== undefined
        ? "the API token is not valid"
        : cookie !== undefined
          ? "the login has expired, was signed out or is not valid: sign in again at /login"
          : "missing API token: send Authorization: Bearer <API_TOKEN>";
    return c.json(errorBody("UNAUTHORIZED", message), 401);
  };
}
