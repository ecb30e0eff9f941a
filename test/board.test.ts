import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { API_TOKEN, type Stack, startStack } from "./support/stack.ts";

// Bull Board and the login page, in-process with app.request(). No workers: a submitted session's
// first phase waits in the orchestrator queue, where the board must show it.
describe("Bull Board behind the API token", () => {
  let stack: Stack;
  let sessionId: string;
  beforeAll(async () => {
    stack = await startStack({ workers: false });
    sessionId = await stack.submit("Build a todo list app");
  });
  afterAll(() => stack?.close());

  const queuesApi = "/admin/queues/api/queues?activeQueue=orchestrator&status=latest&page=1&jobsPerPage=10";
  const asPage = { accept: "text/html,application/xhtml+xml" };
  const bearer = { authorization: `Bearer ${API_TOKEN}` };

  const login = (token: string, next = "/admin/queues", headers: Record<string, string> = {}) =>
    stack.app.request("/login", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
      body: new URLSearchParams({ token, next }).toString(),
    });

  /** The `name=value` part of the login cookie a response sets. */
  const cookieOf = (response: Response) => {
    const setCookie = response.headers.get("set-cookie");
    expect(setCookie).toBeTruthy();
    return (setCookie as string).split(";")[0] as string;
  };

  type QueuesBody = {
    queues: { name: string; description?: string; jobs: { id: string; name: string }[] }[];
  };

  it("answers the board's API without a token with 401 JSON", async () => {
    const response = await stack.app.request(queuesApi);
    expect(response.status).toBe(401);
    expect(response.headers.get("content-type")).toMatch(/application\/json/);
    expect(await response.json()).toEqual({
      error: { code: "UNAUTHORIZED", message: "missing API token: send Authorization: Bearer <API_TOKEN>" },
    });
    const wrong = await stack.app.request(queuesApi, { headers: { authorization: "Bearer nope" } });
    expect(wrong.status).toBe(401);
    // A page request that does not accept HTML (a script) is an API call too.
    expect((await stack.app.request("/admin/queues")).status).toBe(401);
    // So are the board's static files.
    expect((await stack.app.request("/admin/queues/static/favicon-32x32.png")).status).toBe(401);
  });

  it("redirects a browser asking for a board page to the login page, keeping where it was going", async () => {
    const response = await stack.app.request("/admin/queues", { headers: asPage });
    expect(response.status).toBe(302);
    expect(response.headers.get("location")).toBe("/login?next=/admin/queues");
    const deep = await stack.app.request("/admin/queues/queue/orchestrator?status=completed", {
      headers: asPage,
    });
    expect(deep.status).toBe(302);
    expect(deep.headers.get("location")).toBe(
      "/login?next=/admin/queues/queue/orchestrator%3Fstatus%3Dcompleted",
    );
  });

  it("serves the board, its files and its API to a bearer token, listing every queue", async () => {
    const page = await stack.app.request("/admin/queues", { headers: { ...asPage, ...bearer } });
    expect(page.status).toBe(200);
    // The login page's strict CSP would stop the board's scripts; it must stay on the login page.
    expect(page.headers.get("content-security-policy")).toBeNull();
    const html = await page.text();
    expect(html).toContain("<title>Foundry queues</title>");
    expect(html).toContain('<base href="/admin/queues/"');

    const script = /src="(static\/js\/main\.[^"]+\.js)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    const asset = await stack.app.request(`/admin/queues/${script}`, { headers: bearer });
    expect(asset.status).toBe(200);
    expect(asset.headers.get("content-type")).toMatch(/javascript/);

    const api = await stack.app.request(queuesApi, { headers: bearer });
    expect(api.status).toBe(200);
    const body = (await api.json()) as QueuesBody;
    expect(body.queues.map((queue) => queue.name).sort()).toEqual([
      "anthropic",
      "gemini",
      "openai",
      "orchestrator",
    ]);
    const orchestrator = body.queues.find((queue) => queue.name === "orchestrator");
    expect(orchestrator?.description).toBe("workflow phases · job id <session>.<phase>");
    expect(body.queues.find((queue) => queue.name === "anthropic")?.description).toBe(
      "anthropic model calls · job id <session>.<phase>.<call>",
    );
    // The session's first phase, named and identified so that a person can find it.
    expect(orchestrator?.jobs).toContainEqual(
      expect.objectContaining({ id: `${sessionId}.0.requirements`, name: "phase requirements" }),
    );
  });

  it("shows a self-contained login form that carries `next`", async () => {
    const response = await stack.app.request("/login?next=/admin/queues/queue/openai");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/text\/html/);
    expect(response.headers.get("content-security-policy")).toContain("default-src 'none'");
    expect(response.headers.get("cache-control")).toBe("no-store");
    const html = await response.text();
    expect(html).toContain('<input type="hidden" name="next" value="/admin/queues/queue/openai">');
    expect(html).toMatch(/<input id="token" name="token" type="password"/);
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    // `next` is escaped, not interpreted.
    const hostile = await stack.app.request(
      `/login?next=${encodeURIComponent('/x"><script>alert(1)</script>')}`,
    );
    expect(await hostile.text()).not.toContain("<script>alert(1)</script>");
  });

  it("refuses a wrong token with 401 and the form again, setting no cookie", async () => {
    const response = await login("not-the-token");
    expect(response.status).toBe(401);
    expect(response.headers.get("set-cookie")).toBeNull();
    const html = await response.text();
    expect(html).toContain("That token is not valid.");
    expect(html).toContain('name="token" type="password"');
    const empty = await login("");
    expect(empty.status).toBe(401);
    expect(await empty.text()).toContain("Enter the API token.");
  });

  it("signs in with the right token: an HttpOnly, SameSite=Strict cookie that is not the token", async () => {
    const response = await login(API_TOKEN);
    expect(response.status).toBe(303);
    expect(response.headers.get("location")).toBe("/admin/queues");
    const setCookie = response.headers.get("set-cookie") as string;
    const [pair, ...attributes] = setCookie.split(/;\s*/);
    expect(pair).toMatch(/^foundry_login=[A-Za-z0-9_-]{22}\.\d+\.[A-Za-z0-9_-]{43}$/);
    expect(setCookie).not.toContain(API_TOKEN);
    expect(attributes.sort()).toEqual(["HttpOnly", "Max-Age=43200", "Path=/", "SameSite=Strict"]);

    // Over https the cookie is also Secure.
    const secure = await stack.app.request("https://foundry.example/login", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ token: API_TOKEN }).toString(),
    });
    expect(secure.status).toBe(303);
    expect(secure.headers.get("set-cookie")).toMatch(/; Secure/);
  });

  it("lets the cookie open the board page and its API", async () => {
    const cookie = cookieOf(await login(API_TOKEN));
    const page = await stack.app.request("/admin/queues", { headers: { ...asPage, cookie } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("<title>Foundry queues</title>");
    const deep = await stack.app.request("/admin/queues/queue/orchestrator", {
      headers: { ...asPage, cookie },
    });
    expect(deep.status).toBe(200);

    const api = await stack.app.request(queuesApi, { headers: { cookie } });
    expect(api.status).toBe(200);
    const body = (await api.json()) as QueuesBody;
    expect(body.queues.map((queue) => queue.name).sort()).toEqual([
      "anthropic",
      "gemini",
      "openai",
      "orchestrator",
    ]);

    // The cookie also stands for the token on /api, as the bearer header does.
    expect((await stack.app.request(`/api/sessions/${sessionId}`, { headers: { cookie } })).status).toBe(200);
  });

  it("refuses forged and expired cookies", async () => {
    const cookie = cookieOf(await login(API_TOKEN));
    const [, value] = cookie.split("=") as [string, string];
    const [id, expiry, mac] = value.split(".") as [string, string, string];
    const otherId = `${id.slice(0, -1)}${id.endsWith("A") ? "B" : "A"}`;
    const tampered = [
      `foundry_login=${id}.${Number(expiry) + 3600}.${mac}`, // a longer life, same MAC
      `foundry_login=${id}.${expiry}.${mac.slice(0, -1)}${mac.endsWith("A") ? "B" : "A"}`,
      `foundry_login=${otherId}.${expiry}.${mac}`, // another sign-in's id, same MAC
      `foundry_login=${API_TOKEN}`, // the raw token is not a login
      `foundry_login=${id}.1.${mac}`,
      `foundry_login=${expiry}.${mac}`, // the format before sign-ins were kept in Postgres
    ];
    for (const forged of tampered) {
      const response = await stack.app.request(queuesApi, { headers: { cookie: forged } });
      expect(response.status, forged).toBe(401);
      expect(((await response.json()) as { error: { message: string } }).error.message).toMatch(
        /sign in again/,
      );
      const page = await stack.app.request("/admin/queues", { headers: { ...asPage, cookie: forged } });
      expect(page.status, forged).toBe(302);
    }
  });

  it("never redirects off-site after signing in", async () => {
    for (const next of [
      "//evil.com",
      "https://evil.com",
      "/\\evil.com",
      "\\\\evil.com",
      "http:/evil.com",
      "javascript:alert(1)",
      "/\t/evil.com",
      "",
      // Dot segments that normalise into a protocol-relative URL.
      "/..//evil.com",
      "/.//evil.com",
      "/%2e%2e//evil.com",
      "/%2E//evil.com/x?y",
      "/a/../..//evil.com",
    ]) {
      const response = await login(API_TOKEN, next);
      expect(response.status, next).toBe(303);
      // The default after signing in is the dashboard.
      expect(response.headers.get("location"), next).toBe("/");
    }
    const fine = await login(API_TOKEN, "/admin/queues/queue/gemini?status=failed");
    expect(fine.headers.get("location")).toBe("/admin/queues/queue/gemini?status=failed");
    // The form shown for `next=//evil.com` carries the safe default instead.
    const form = await (await stack.app.request("/login?next=//evil.com")).text();
    expect(form).toContain('name="next" value="/"');
    const dotted = await (await stack.app.request("/login?next=/..//evil.com")).text();
    expect(dotted).toContain('name="next" value="/"');
    // Dot segments that stay on this site are resolved, not refused.
    const local = await login(API_TOKEN, "/admin/../admin/queues/./queue/openai");
    expect(local.headers.get("location")).toBe("/admin/queues/queue/openai");
  });

  it("answers a malformed multipart sign-in with 400, not 500", async () => {
    const response = await stack.app.request("/login", {
      method: "POST",
      headers: { "content-type": "multipart/form-data; boundary=----x" },
      body: "this is not multipart at all",
    });
    expect(response.status).toBe(400);
    expect(response.headers.get("set-cookie")).toBeNull();
    expect(await response.text()).toContain("The form could not be read.");
    // A well-formed multipart form still signs in.
    const form = new FormData();
    form.set("token", API_TOKEN);
    const multipart = await stack.app.request("/login", { method: "POST", body: form });
    expect(multipart.status).toBe(303);
  });

  it("refuses cross-site writes even with a valid cookie", async () => {
    const cookie = cookieOf(await login(API_TOKEN));
    const pause = (headers: Record<string, string>) =>
      stack.app.request("/admin/queues/api/queues/openai/pause", {
        method: "PUT",
        headers: { cookie, ...headers },
      });
    const forged = await pause({ origin: "https://evil.com" });
    expect(forged.status).toBe(403);
    expect(((await forged.json()) as { error: { code: string } }).error.code).toBe("CROSS_SITE_REQUEST");
    expect((await pause({ "sec-fetch-site": "cross-site" })).status).toBe(403);
    expect((await pause({ origin: "null" })).status).toBe(403);
    expect(await stack.queues.get("openai").isPaused()).toBe(false);

    // From the board's own page (same origin), the write goes through.
    const own = await pause({ origin: "http://localhost", "sec-fetch-site": "same-origin" });
    expect(own.status).toBe(200);
    expect(await stack.queues.get("openai").isPaused()).toBe(true);
    await stack.queues.get("openai").resume();

    // A cross-site login form post is refused too; the login page's own post is not.
    expect((await login(API_TOKEN, "/admin/queues", { origin: "https://evil.com" })).status).toBe(403);
    expect((await login(API_TOKEN, "/admin/queues", { origin: "http://localhost" })).status).toBe(303);
  });

  it("signs out on the server too: a copy of the signed-out cookie opens nothing", async () => {
    const cookie = cookieOf(await login(API_TOKEN));
    const otherBrowser = cookieOf(await login(API_TOKEN));
    const signedIn = await (await stack.app.request("/login", { headers: { cookie } })).text();
    expect(signedIn).toContain("You are signed in.");
    const response = await stack.app.request("/logout", { method: "POST", headers: { cookie } });
    expect(response.status).toBe(303);
    expect(response.headers.get("location")).toBe("/login");
    const cleared = response.headers.get("set-cookie") as string;
    expect(cleared).toMatch(/^foundry_login=;/);
    expect(cleared).toContain("Max-Age=0");
    expect(cleared).toContain("Path=/");

    // The browser forgot the cookie; someone who kept a copy gets nothing with it, on any replica
    // (the sign-in is gone from Postgres, not only from this process).
    const api = await stack.app.request(`/api/sessions/${sessionId}`, { headers: { cookie } });
    expect(api.status).toBe(401);
    expect(((await api.json()) as { error: { message: string } }).error.message).toMatch(/signed out/);
    expect((await stack.app.request("/admin/queues", { headers: { ...asPage, cookie } })).status).toBe(302);
    expect(await (await stack.app.request("/login", { headers: { cookie } })).text()).not.toContain(
      "You are signed in.",
    );
    // Another browser's sign-in is its own, and stays.
    expect(
      (await stack.app.request(`/api/sessions/${sessionId}`, { headers: { cookie: otherBrowser } })).status,
    ).toBe(200);
    // Signing out twice, or with a forged cookie, is harmless.
    expect((await stack.app.request("/logout", { method: "POST", headers: { cookie } })).status).toBe(303);
    expect(
      (await stack.app.request("/logout", { method: "POST", headers: { cookie: "foundry_login=x" } })).status,
    ).toBe(303);
  });

  it("leaves the /api routes as they were", async () => {
    expect((await stack.app.request("/api/sessions")).status).toBe(401);
    const list = await stack.request("/api/sessions");
    expect(list.status).toBe(200);
    // The login page's headers and 16 KiB form limit stay on the login page.
    expect(list.headers.get("content-security-policy")).toBeNull();
    const big = await stack.request("/api/sessions", {
      method: "POST",
      body: JSON.stringify({ request: "x".repeat(19_000) }), // over the login form's 16 KiB
    });
    expect(big.status).toBe(202);
    expect((await stack.app.request("/nothing")).status).toBe(404);
  });
});
