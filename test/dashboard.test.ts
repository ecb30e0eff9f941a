// The dashboard's page and files, in-process: behind the API token like Bull Board (a browser is
// sent to the login page), a strict CSP whose hash admits exactly the page's import map, and every
// file the page loads (its modules, Bootstrap, Chart.js and what Chart.js imports) served from the
// allowlist with its type, nothing else. The page itself is exercised in Chromium by
// test/browser/dashboard.browser.test.ts.
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { API_TOKEN, type Stack, startStack } from "./support/stack.ts";

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ workers: false });
});
afterAll(() => stack?.close());

const bearer = { authorization: `Bearer ${API_TOKEN}` };
const asPage = { accept: "text/html,application/xhtml+xml" };
const get = (path: string, headers: Record<string, string> = bearer) => stack.app.request(path, { headers });

describe("the dashboard", () => {
  it("sends a browser without the token to the login page, keeping where it was going", async () => {
    const page = await get("/", asPage);
    expect(page.status).toBe(302);
    expect(page.headers.get("location")).toBe("/login?next=/");
    const session = await get("/?session=0b6f3c1e-2d7a-4a51-9a43-5f1f9c3e8d21", asPage);
    expect(session.headers.get("location")).toBe(
      `/login?next=/${encodeURIComponent("?session=0b6f3c1e-2d7a-4a51-9a43-5f1f9c3e8d21")}`,
    );
    expect((await get("/", {})).status).toBe(401);
    expect((await get("/dashboard/app/main.js", {})).status).toBe(401);
    expect((await get("/dashboard/vendor/chart.js/chart.js", asPage)).status).toBe(302);
  });

  it("serves the page with a CSP that admits its import map by hash and nothing else inline", async () => {
    const response = await get("/");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/html/);
    expect(response.headers.get("x-frame-options")).toBe("DENY");
    const html = await response.text();
    const csp = response.headers.get("content-security-policy") as string;
    const importMap = /<script type="importmap">([\s\S]*?)<\/script>/.exec(html)?.[1] as string;
    const hash = createHash("sha256").update(importMap).digest("base64");
    expect(csp).toContain(`script-src 'self' 'sha256-${hash}'`);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).not.toContain("unsafe");
    // The only inline script is the import map; everything else comes from /dashboard/.
    const scripts = [...html.matchAll(/<script([^>]*)>/g)].map((match) => match[1] as string);
    expect(scripts.filter((attributes) => !attributes.includes("src=")).length).toBe(1);
    expect(html).not.toMatch(/https?:\/\//);
  });

  it("serves every file the page loads, with its type, and nothing outside the allowlist", async () => {
    const html = await (await get("/")).text();
    const importMap = JSON.parse(
      /<script type="importmap">([\s\S]*?)<\/script>/.exec(html)?.[1] as string,
    ) as { imports: Record<string, string> };
    const pending = [
      ...[...html.matchAll(/(?:src|href)="(\/dashboard\/[^"]+)"/g)].map((match) => match[1] as string),
      ...Object.values(importMap.imports),
    ];
    const served = new Set<string>();
    while (pending.length) {
      const path = pending.pop() as string;
      if (served.has(path)) continue;
      served.add(path);
      const response = await get(path);
      expect(response.status, path).toBe(200);
      expect(response.headers.get("x-content-type-options"), path).toBe("nosniff");
      const type = response.headers.get("content-type") ?? "";
      const expected = path.endsWith(".js")
        ? /^text\/javascript/
        : path.endsWith(".css")
          ? /^text\/css/
          : /^image\/svg/;
      expect(type, path).toMatch(expected);
      if (!path.endsWith(".js")) continue;
      // Follow the modules' relative imports (the page's own, and Chart.js's chunks).
      const source = await response.text();
      for (const match of source.matchAll(
        /(?:^|\n)\s*(?:import|export)[^'"]*?from\s*["'](\.{1,2}\/[^"']+)["']/g,
      )) {
        pending.push(new URL(match[1] as string, `http://x${path}`).pathname);
      }
    }
    expect(served).toContain("/dashboard/app/session.js");
    expect(served).toContain("/dashboard/vendor/chart.js/chunks/index.js");
    expect(served).toContain("/dashboard/vendor/kurkle-color/color.esm.js");
    for (const path of [
      "/dashboard/app/index.html",
      "/dashboard/app/../../package.json",
      "/dashboard/app/%2e%2e/%2e%2e/src/main.ts",
      "/dashboard/vendor/chart.js/chart.cjs",
      "/dashboard/vendor/bootstrap/../../package.json",
      "/dashboard/nothing",
    ]) {
      const response = await get(path);
      expect(response.status, path).toBe(404);
    }
  });
});
