import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { call, startTestServer } from "./helpers.js";

let server;
before(async () => {
  server = await startTestServer();
});
after(() => server.close());

const api = (method, path, body, headers) => call(server.baseUrl, method, path, body, headers);

describe("health", () => {
  test("GET /api/health answers ok", async () => {
    const res = await api("GET", "/api/health");
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { status: "ok" });
  });
});

describe("todos API", () => {
  test("lists, creates, reads, updates, toggles and deletes a todo", async () => {
    const empty = await api("GET", "/api/todos");
    assert.equal(empty.status, 200);
    assert.ok(Array.isArray(empty.body));

    const created = await api("POST", "/api/todos", { title: "  Write tests  " });
    assert.equal(created.status, 201);
    assert.equal(created.body.title, "Write tests");
    assert.equal(created.body.done, false);
    assert.equal(typeof created.body.id, "string");
    assert.equal(created.headers.get("location"), `/api/todos/${created.body.id}`);
    const path = `/api/todos/${created.body.id}`;

    const listed = await api("GET", "/api/todos");
    assert.ok(listed.body.some((todo) => todo.id === created.body.id));

    const read = await api("GET", path);
    assert.equal(read.status, 200);
    assert.deepEqual(read.body, created.body);

    const toggled = await api("PATCH", path, { done: true });
    assert.equal(toggled.status, 200);
    assert.equal(toggled.body.done, true);
    assert.equal(toggled.body.title, "Write tests");

    const renamed = await api("PATCH", path, { title: "Write more tests" });
    assert.equal(renamed.status, 200);
    assert.equal(renamed.body.title, "Write more tests");
    assert.equal(renamed.body.done, true);

    const deleted = await api("DELETE", path);
    assert.equal(deleted.status, 204);
    assert.equal((await api("GET", path)).status, 404);
    assert.equal((await api("DELETE", path)).status, 404);
  });

  test("keeps todos in creation order", async () => {
    const first = await api("POST", "/api/todos", { title: "first" });
    const second = await api("POST", "/api/todos", { title: "second" });
    const ids = (await api("GET", "/api/todos")).body.map((todo) => todo.id);
    assert.ok(ids.indexOf(first.body.id) < ids.indexOf(second.body.id));
  });

  test("rejects invalid new todos with 400 and a message", async () => {
    for (const body of [
      {},
      { title: "" },
      { title: "   " },
      { title: 42 },
      { title: "x".repeat(201) },
      [],
      { title: "ok", extra: 1 },
      { title: "ok", done: "yes" },
    ]) {
      const res = await api("POST", "/api/todos", body);
      assert.equal(res.status, 400, `body ${JSON.stringify(body)}`);
      assert.equal(typeof res.body.error, "string");
    }
  });

  test("rejects malformed JSON, wrong content type and oversized bodies", async () => {
    assert.equal((await api("POST", "/api/todos", "{not json")).status, 400);
    assert.equal((await api("POST", "/api/todos", "title=x", { "content-type": "text/plain" })).status, 415);
    assert.equal((await api("POST", "/api/todos", { title: "x".repeat(20_000) })).status, 413);
  });

  test("rejects invalid changes and unknown ids", async () => {
    const created = await api("POST", "/api/todos", { title: "change me" });
    const path = `/api/todos/${created.body.id}`;
    for (const body of [{}, { done: "true" }, { title: "" }, { color: "red" }]) {
      assert.equal((await api("PATCH", path, body)).status, 400, `body ${JSON.stringify(body)}`);
    }
    assert.equal((await api("PATCH", "/api/todos/does-not-exist", { done: true })).status, 404);
    assert.equal((await api("GET", "/api/todos/does-not-exist")).status, 404);
  });

  test("answers 405 with Allow for unsupported methods and 404 for unknown API routes", async () => {
    const put = await api("PUT", "/api/todos", { title: "x" });
    assert.equal(put.status, 405);
    assert.equal(put.headers.get("allow"), "GET, POST");
    assert.equal((await api("POST", "/api/todos/1", { title: "x" })).status, 405);
    const unknown = await api("GET", "/api/unknown");
    assert.equal(unknown.status, 404);
    assert.equal(typeof unknown.body.error, "string");
  });
});
