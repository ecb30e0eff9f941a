import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { request } from "node:http";
import { after, before, describe, test } from "node:test";
import { call, startTestServer } from "./helpers.js";

let server;
before(async () => {
  server = await startTestServer();
});
after(() => server.close());

describe("static frontend", () => {
  test("serves the page and the assets it references", async () => {
    const page = await fetch(`${server.baseUrl}/`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get("content-type"), /text\/html/);
    const html = await page.text();
    assert.match(html, /<script type="module" src="\/app.js"><\/script>/);
    assert.match(html, /href="\/styles.css"/);

    const script = await fetch(`${server.baseUrl}/app.js`);
    assert.equal(script.status, 200);
    assert.match(script.headers.get("content-type"), /javascript/);
    const styles = await fetch(`${server.baseUrl}/styles.css`);
    assert.equal(styles.status, 200);
    assert.match(styles.headers.get("content-type"), /text\/css/);
  });

  test("answers 404 for missing files and for paths outside the frontend folder", async () => {
    assert.equal((await fetch(`${server.baseUrl}/missing.js`)).status, 404);
    const status = await new Promise((resolve, reject) => {
      const { hostname, port } = new URL(server.baseUrl);
      const req = request({ hostname, port, path: "/..%2fbackend%2fapp.js" }, (res) => {
        res.resume();
        resolve(res.statusCode);
      });
      req.on("error", reject);
      req.end();
    });
    assert.equal(status, 404);
  });
});

describe("frontend/backend contract", () => {
  test("every API call in frontend/app.js is served by the backend", async () => {
    const source = await readFile(new URL("../frontend/app.js", import.meta.url), "utf8");
    const base = /const API_BASE = "([^"]+)"/.exec(source)?.[1];
    assert.ok(base, "frontend/app.js declares API_BASE");

    const calls = [
      ...source.matchAll(
        /request\((API_BASE|`\$\{API_BASE\}\/\$\{[^}]*\}`)(?:,\s*\{\s*method:\s*"([A-Z]+)")?/g,
      ),
    ].map((match) => ({ item: match[1] !== "API_BASE", method: match[2] ?? "GET" }));
    assert.ok(calls.length >= 4, `found the frontend's API calls: ${JSON.stringify(calls)}`);

    const created = await call(server.baseUrl, "POST", base, { title: "contract" });
    assert.equal(created.status, 201);
    const order = ["GET", "POST", "PATCH", "DELETE"];
    calls.sort((a, b) => order.indexOf(a.method) - order.indexOf(b.method));
    for (const { item, method } of calls) {
      const path = item ? `${base}/${created.body.id}` : base;
      const body =
        method === "POST" ? { title: "from contract" } : method === "PATCH" ? { done: true } : undefined;
      const res = await call(server.baseUrl, method, path, body);
      assert.ok(res.status >= 200 && res.status < 300, `${method} ${path} answered ${res.status}`);
    }
  });
});
