import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { createOpenApiDocument, routes } from "@foundry/contract";
import type { Hono } from "hono";
import { handle } from "../contract-route.ts";
import { ApiError } from "../errors.ts";

// The OpenAPI document and a reference page for it: Swagger UI, served from its npm package
// (swagger-ui-dist) by this API, so it works offline and behind the same sign-in as /api.

const UI_DIR = dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));

// Our own start-up script (the page allows no inline script). Paths are relative to /api/docs, so
// the page also works behind a proxy that mounts the API under a prefix.
const INIT_SCRIPT = `window.ui = SwaggerUIBundle({
  url: "./openapi.json",
  dom_id: "#reference",
  deepLinking: true,
  validatorUrl: null,
  withCredentials: true,
  tryItOutEnabled: false,
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
});
`;

const ASSETS: Record<string, { type: string; file?: string; text?: string }> = {
  "swagger-ui.css": { type: "text/css; charset=utf-8", file: "swagger-ui.css" },
  "swagger-ui-bundle.js": { type: "text/javascript; charset=utf-8", file: "swagger-ui-bundle.js" },
  "favicon-32x32.png": { type: "image/png", file: "favicon-32x32.png" },
  "init.js": { type: "text/javascript; charset=utf-8", text: INIT_SCRIPT },
};

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>Foundry API reference</title>
<link rel="icon" type="image/png" href="docs/assets/favicon-32x32.png">
<link rel="stylesheet" href="docs/assets/swagger-ui.css">
</head>
<body>
<div id="reference"></div>
<script src="docs/assets/swagger-ui-bundle.js"></script>
<script src="docs/assets/init.js"></script>
</body>
</html>
`;

const PAGE_HEADERS = {
  "Content-Security-Policy":
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  "X-Frame-Options": "DENY",
  "Referrer-Policy": "same-origin",
} as const;

/** `GET /api/openapi.json`, `GET /api/docs` and the page's assets. */
export function referenceRoutes(app: Hono): void {
  const document = createOpenApiDocument();
  const cache = new Map<string, Buffer | string>();

  handle(app, routes.getOpenApi, (c) => c.json(document));

  handle(app, routes.getReference, (c) => c.html(PAGE, 200, PAGE_HEADERS));

  handle(app, routes.getReferenceAsset, async (c, { params: { file } }) => {
    const asset = ASSETS[file];
    if (!asset) throw new ApiError(404, "NOT_FOUND", `no file ${JSON.stringify(file)}`);
    let body = cache.get(file);
    if (body === undefined) {
      body = asset.text ?? (await readFile(join(UI_DIR, asset.file as string)));
      cache.set(file, body);
    }
    return c.body(typeof body === "string" ? body : new Uint8Array(body), 200, {
      "Content-Type": asset.type,
      "Cache-Control": "private, max-age=3600",
      "X-Content-Type-Options": "nosniff",
    });
  });
}
