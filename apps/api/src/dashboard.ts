// The dashboard at /: one page of plain ES modules (apps/api/dashboard/) that reads the REST API
// and its event streams, with Bootstrap and Chart.js served from their npm packages by this API
// (no CDN, no build step). Behind the API token, as Bull Board: a browser without the login
// cookie is sent to the login page.
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Hono } from "hono";
import { type Auth, refuseCrossSiteWrites, requireToken } from "./auth.ts";
import { errorBody } from "./errors.ts";
import { loginLocation } from "./login.ts";

export const DASHBOARD_PATH = "/";
/** Where the page's scripts, styles and the vendored libraries are served. */
export const DASHBOARD_ASSETS = "/dashboard";

const APP_DIR = fileURLToPath(new URL("../dashboard/", import.meta.url));
/**
 * The folder of an installed package, found from its entry point (chart.js does not export its
 * package.json): the nearest folder above it whose package.json has that name.
 */
function packageRoot(name: string, from: string = import.meta.url): string {
  let dir = dirname(createRequire(from).resolve(name));
  for (;;) {
    try {
      const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { name?: string };
      if (manifest.name === name) return dir;
    } catch {
      // no package.json here: go up
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`the package ${name} was not found`);
    dir = parent;
  }
}

const BOOTSTRAP = join(packageRoot("bootstrap"), "dist");
const CHART_ROOT = packageRoot("chart.js");
const CHART = join(CHART_ROOT, "dist");
// Chart.js's ES module imports @kurkle/color (its dependency): resolved from chart.js's own folder.
const KURKLE = join(packageRoot("@kurkle/color", join(CHART_ROOT, "package.json")), "dist");

const TYPES: Record<string, string> = {
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".html": "text/html; charset=utf-8",
  ".svg": "image/svg+xml",
};
const typeOf = (file: string) => TYPES[file.slice(file.lastIndexOf("."))] ?? "application/octet-stream";

/** Every file the page may load, by its path under {@link DASHBOARD_ASSETS}: nothing else is served. */
function assetTable(): Map<string, { file: string; vendor: boolean }> {
  const table = new Map<string, { file: string; vendor: boolean }>();
  for (const name of readdirSync(APP_DIR)) {
    if (name !== "index.html" && /^[a-z0-9-]+\.(js|css|svg)$/.test(name)) {
      table.set(`/app/${name}`, { file: join(APP_DIR, name), vendor: false });
    }
  }
  const vendor: Record<string, string> = {
    "/vendor/bootstrap/bootstrap.min.css": join(BOOTSTRAP, "css", "bootstrap.min.css"),
    "/vendor/bootstrap/bootstrap.bundle.min.js": join(BOOTSTRAP, "js", "bootstrap.bundle.min.js"),
    "/vendor/chart.js/chart.js": join(CHART, "chart.js"),
    "/vendor/chart.js/chunks/index.js": join(CHART, "chunks", "index.js"),
    "/vendor/kurkle-color/color.esm.js": join(KURKLE, "color.esm.js"),
  };
  for (const [path, file] of Object.entries(vendor)) table.set(path, { file, vendor: true });
  return table;
}

/** The page, and the CSP hash of its import map (the only inline script, allowed by its hash). */
function loadPage(): { html: string; csp: string } {
  const html = readFileSync(join(APP_DIR, "index.html"), "utf8");
  const importMap = /<script type="importmap">([\s\S]*?)<\/script>/.exec(html)?.[1];
  if (importMap === undefined) throw new Error("dashboard/index.html has no import map");
  const hash = createHash("sha256").update(importMap).digest("base64");
  const csp =
    `default-src 'none'; script-src 'self' 'sha256-${hash}'; style-src 'self'; ` +
    "img-src 'self' data:; font-src 'self'; connect-src 'self'; frame-ancestors 'none'; " +
    "base-uri 'none'; form-action 'self'";
  return { html, csp };
}

export interface DashboardOptions {
  auth: Auth;
}

/**
 * `GET /` (the page: sessions, a session with `?session=<id>`, `?view=load`, `?view=audit`) and
 * `GET /dashboard/…` (its files), to mount with `app.route("/", …)`.
 */
export function dashboardRoutes(options: DashboardOptions): Hono {
  const page = loadPage();
  const assets = assetTable();
  const cache = new Map<string, Buffer>();
  const app = new Hono();
  const guard = requireToken(options.auth, {
    onPage: (target) => new Response(null, { status: 302, headers: { location: loginLocation(target) } }),
  });
  // Scoped to these paths: mounted at "/", a "*" middleware would apply to every route of the API.
  for (const path of [DASHBOARD_PATH, `${DASHBOARD_ASSETS}/*`]) {
    app.use(path, refuseCrossSiteWrites(), guard);
  }

  app.get(DASHBOARD_PATH, (c) =>
    c.html(page.html, 200, {
      "Content-Security-Policy": page.csp,
      "X-Frame-Options": "DENY",
      "Referrer-Policy": "same-origin",
      "Cache-Control": "no-store",
    }),
  );

  app.get(`${DASHBOARD_ASSETS}/*`, (c) => {
    const path = c.req.path.slice(DASHBOARD_ASSETS.length);
    const asset = assets.get(path);
    if (!asset) return c.json(errorBody("NOT_FOUND", `no file ${JSON.stringify(path)}`), 404);
    let body = cache.get(asset.file);
    if (body === undefined) {
      body = readFileSync(asset.file);
      cache.set(asset.file, body);
    }
    return c.body(new Uint8Array(body), 200, {
      "Content-Type": typeOf(asset.file),
      // The page's own files change with each release: revalidate them; the libraries are pinned.
      "Cache-Control": asset.vendor ? "private, max-age=86400" : "private, no-cache",
      "X-Content-Type-Options": "nosniff",
    });
  });
  return app;
}
