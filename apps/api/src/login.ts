// The browser sign-in for the pages behind the API token (Bull Board, the dashboard): a small
// self-contained form that trades the token for an HttpOnly, SameSite=Strict cookie.
import type { Context } from "hono";
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { createMiddleware } from "hono/factory";
import { html } from "hono/html";
import {
  type Auth,
  isAuthenticated,
  LOGIN_TTL_SECONDS,
  loginCookieValue,
  parseLoginCookie,
  refuseCrossSiteWrites,
  SESSION_COOKIE,
  tokenMatches,
} from "./auth.ts";
import { errorBody } from "./errors.ts";
import { clientAddress, type LoginRateLimiter } from "./login-rate-limit.ts";

export const LOGIN_PATH = "/login";
export const LOGOUT_PATH = "/logout";

export interface LoginOptions {
  auth: Auth;
  /** Counts sign-in attempts per client address; over the limit, `POST /login` answers 429. */
  rateLimiter: LoginRateLimiter;
  /** Take the client's address from `X-Forwarded-For` (behind a proxy). @default false */
  trustProxy?: boolean;
  /** Where to go after signing in when the request names no (acceptable) `next`. */
  defaultNext: string;
  /**
   * Always mark the cookie `Secure`. Without it the cookie is `Secure` only when the request
   * arrived over https (directly, or as a proxy's `X-Forwarded-Proto: https` says).
   * @default false
   */
  secureCookie?: boolean;
}

/**
 * Where to send the browser after signing in: only a path on this site. Anything that a browser
 * could read as another host (`//evil.com`, `/\evil.com`, `https://evil.com`) or that carries
 * control characters becomes `fallback` — checked again after normalisation, since resolving dot
 * segments can make a host out of a path (`/..//evil.com` and `/%2e//evil.com` become `//evil.com`).
 */
export function safeNext(next: unknown, fallback: string): string {
  if (typeof next !== "string" || next.length > 2000) return fallback;
  if (!isLocalPath(next)) return fallback;
  const base = "http://same.invalid";
  const url = new URL(next, base);
  const normalised = `${url.pathname}${url.search}${url.hash}`;
  return url.origin === base && isLocalPath(normalised) ? normalised : fallback;
}

const isLocalPath = (path: string) =>
  path.startsWith("/") && !path.startsWith("//") && ![...path].some(isUnsafeChar);

// Browsers read `\` as `/` and drop tabs and newlines from URLs, so `/\evil.com` or `/\t/evil.com`
// could turn into `//evil.com`.
const isUnsafeChar = (char: string) => char === "\\" || char <= "\u001f" || char === "\u007f";

/** The login page's address for a page that asked for sign-in; `/` is left readable in `next`. */
export function loginLocation(next: string): string {
  return `${LOGIN_PATH}?next=${encodeURIComponent(next).replaceAll("%2F", "/")}`;
}

/**
 * `GET /login`, `POST /login` (rate-limited per client address) and `POST /logout` (which ends
 * the sign-in in Postgres, not only in the browser).
 */
export function loginRoutes(options: LoginOptions): Hono {
  const app = new Hono();
  // Scoped to these paths, not "*": mounted with `route("/", …)`, a "*" middleware would apply to
  // every route of the API.
  for (const path of [LOGIN_PATH, LOGOUT_PATH]) {
    app.use(path, securityHeaders, refuseCrossSiteWrites(), formLimit);
  }

  app.get(LOGIN_PATH, async (c) => {
    const next = safeNext(c.req.query("next"), options.defaultNext);
    return c.html(loginPage({ next, signedIn: await isAuthenticated(c, options.auth) }));
  });

  app.post(LOGIN_PATH, async (c) => {
    const verdict = await options.rateLimiter.attempt(clientAddress(c, options.trustProxy));
    if (!verdict.allowed) {
      c.header("Retry-After", String(verdict.retryAfterSeconds));
      const error = `Too many sign-in attempts from your address. Try again in ${verdict.retryAfterSeconds} s.`;
      return c.html(loginPage({ next: options.defaultNext, signedIn: false, error }), 429);
    }
    // A body that does not parse as the form type it claims (a broken multipart body) is the
    // client's mistake: 400, not an internal error.
    const form = await c.req.parseBody().catch(() => null);
    if (form === null) {
      return c.html(
        loginPage({ next: options.defaultNext, signedIn: false, error: "The form could not be read." }),
        400,
      );
    }
    const next = safeNext(form.next, options.defaultNext);
    const token = typeof form.token === "string" ? form.token : undefined;
    if (!tokenMatches(options.auth.token, token)) {
      const message = token ? "That token is not valid." : "Enter the API token.";
      return c.html(loginPage({ next, signedIn: false, error: message }), 401);
    }
    const expiresAt = Math.floor(Date.now() / 1000) + LOGIN_TTL_SECONDS;
    const id = await options.auth.sessions.start(new Date(expiresAt * 1000));
    setCookie(c, SESSION_COOKIE, loginCookieValue(options.auth.token, id, expiresAt), {
      httpOnly: true,
      sameSite: "Strict",
      path: "/",
      secure: options.secureCookie === true || isHttps(c),
      maxAge: LOGIN_TTL_SECONDS,
    });
    return c.redirect(next, 303);
  });

  app.post(LOGOUT_PATH, async (c) => {
    // Ended on the server too: a copy of the cookie (another tab, a stolen value) stops working.
    const login = parseLoginCookie(options.auth.token, getCookie(c, SESSION_COOKIE));
    if (login) await options.auth.sessions.end(login.id);
    deleteCookie(c, SESSION_COOKIE, {
      httpOnly: true,
      sameSite: "Strict",
      path: "/",
      secure: options.secureCookie === true || isHttps(c),
    });
    return c.redirect(LOGIN_PATH, 303);
  });
  return app;
}

const securityHeaders = createMiddleware(async (c, next) => {
  await next();
  // The form takes a secret: never cache it, never frame it, never tell other sites about it.
  // (Not `no-referrer`: with it Chromium sends `Origin: null` on the form's own POST, which
  // refuseCrossSiteWrites rightly refuses.)
  c.header("Cache-Control", "no-store");
  c.header("X-Frame-Options", "DENY");
  c.header("Referrer-Policy", "same-origin");
  c.header(
    "Content-Security-Policy",
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  );
});

const formLimit = bodyLimit({
  maxSize: 16 * 1024,
  onError: (c) => c.json(errorBody("PAYLOAD_TOO_LARGE", "the form is larger than 16 KiB"), 413),
});

function isHttps(c: Context): boolean {
  return new URL(c.req.url).protocol === "https:" || c.req.header("x-forwarded-proto") === "https";
}

function loginPage(view: { next: string; signedIn: boolean; error?: string }) {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>Sign in · Foundry</title>
<style>
  body { margin: 0; min-height: 100vh; display: grid; place-items: center; background: #f4f5f7;
    font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1f2328; }
  main { width: min(22rem, 90vw); background: #fff; border: 1px solid #d0d7de; border-radius: 8px; padding: 1.5rem; }
  h1 { font-size: 1.25rem; margin: 0 0 1rem; }
  label { display: block; font-weight: 600; margin-bottom: .25rem; }
  input[type=password] { box-sizing: border-box; width: 100%; padding: .5rem; font: inherit;
    border: 1px solid #d0d7de; border-radius: 6px; }
  button { margin-top: 1rem; width: 100%; padding: .55rem; font: inherit; font-weight: 600; color: #fff;
    background: #1f6feb; border: 0; border-radius: 6px; cursor: pointer; }
  button.secondary { background: #6e7781; }
  .error { color: #b42318; background: #fef3f2; border: 1px solid #fecdca; border-radius: 6px; padding: .5rem; }
  p.hint { color: #57606a; font-size: .85rem; }
</style>
</head>
<body>
<main>
  <h1>Foundry</h1>
  ${view.error ? html`<p class="error" role="alert">${view.error}</p>` : ""}
  ${
    view.signedIn
      ? html`<p>You are signed in. <a href="${view.next}">Continue</a></p>
  <form method="post" action="${LOGOUT_PATH}"><button class="secondary" type="submit">Sign out</button></form>`
      : html`<form method="post" action="${LOGIN_PATH}">
    <input type="hidden" name="next" value="${view.next}">
    <label for="token">API token</label>
    <input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
    <button type="submit">Sign in</button>
  </form>
  <p class="hint">The same token that API clients send as <code>Authorization: Bearer</code>.</p>`
  }
</main>
</body>
</html>`;
}
