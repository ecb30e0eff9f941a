import { createApp } from "@foundry/api";
import { WorkflowCatalog } from "@foundry/workflow";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { API_TOKEN, type Stack, startStack, WORKFLOWS_DIR } from "./support/stack.ts";

// `POST /login` per client address, counted in Postgres so that every API replica shares the count.
// Windows are aligned on Postgres's clock; this one (about 63 years) does not end during the test.
const WINDOW_SECONDS = 2_000_000_000;
const MAX = 3;

describe("sign-in rate limit", () => {
  let stack: Stack;
  let replica: ReturnType<typeof createApp>;
  let behindProxy: ReturnType<typeof createApp>;
  beforeAll(async () => {
    stack = await startStack({ workers: false, loginRateLimit: { max: MAX, windowSeconds: WINDOW_SECONDS } });
    const deps = {
      db: stack.db.prisma,
      queues: stack.queues,
      workflows: await WorkflowCatalog.load(WORKFLOWS_DIR),
      apiToken: API_TOKEN,
      canPublish: false,
      workspaceDir: stack.workspaceDir,
      maxBodyBytes: 1024 * 1024,
      logError: (error: Error) => console.error(error),
      loginRateLimit: { max: MAX, windowSeconds: WINDOW_SECONDS },
    };
    // A second API process on the same database, as another replica would be.
    replica = createApp(deps);
    behindProxy = createApp({ ...deps, trustProxy: true });
  });
  afterAll(() => stack?.close());

  /** A sign-in attempt from `address` (the socket's peer, as @hono/node-server passes it). */
  const attempt = (
    app: ReturnType<typeof createApp>,
    address: string,
    token: string,
    headers: Record<string, string> = {},
  ) =>
    Promise.resolve(
      app.request(
        "/login",
        {
          method: "POST",
          headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
          body: new URLSearchParams({ token }).toString(),
        },
        { incoming: { socket: { remoteAddress: address } } },
      ),
    );

  it("answers 429 with Retry-After past the limit, even with the right token, across replicas", async () => {
    const guesser = "203.0.113.7";
    expect((await attempt(stack.app, guesser, "wrong-1")).status).toBe(401);
    expect((await attempt(replica, guesser, "wrong-2")).status).toBe(401);
    expect((await attempt(stack.app, guesser, API_TOKEN)).status).toBe(303);

    for (const app of [stack.app, replica]) {
      const limited = await attempt(app, guesser, API_TOKEN);
      expect(limited.status).toBe(429);
      expect(limited.headers.get("set-cookie")).toBeNull();
      const retryAfter = Number(limited.headers.get("retry-after"));
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(WINDOW_SECONDS);
      expect(await limited.text()).toContain(`Too many sign-in attempts from your address. Try again in`);
    }
    const stored = await stack.db.prisma.loginAttempt.findMany({ where: { client: guesser } });
    expect(stored.map((row) => row.attempts)).toEqual([MAX + 2]);

    // Another address has its own count; the form page itself is not limited.
    expect((await attempt(replica, "198.51.100.2", API_TOKEN)).status).toBe(303);
    expect(
      (await stack.app.request("/login", {}, { incoming: { socket: { remoteAddress: guesser } } })).status,
    ).toBe(200);
  });

  it("counts per forwarded address only when told to trust the proxy", async () => {
    const proxy = "10.0.0.9";
    // Without trustProxy, X-Forwarded-For is the client's own claim: ignored, the proxy's address counts.
    for (let index = 0; index < MAX; index++) {
      const response = await attempt(stack.app, proxy, "wrong", { "x-forwarded-for": `192.0.2.${index}` });
      expect(response.status).toBe(401);
    }
    expect((await attempt(stack.app, proxy, "wrong", { "x-forwarded-for": "192.0.2.99" })).status).toBe(429);

    // With it, the last entry (the one the proxy appended) is the client; earlier ones are spoofable.
    const spoofed = { "x-forwarded-for": "203.0.113.7, 192.0.2.50" };
    for (let index = 0; index < MAX; index++) {
      expect((await attempt(behindProxy, proxy, "wrong", spoofed)).status).toBe(401);
    }
    expect((await attempt(behindProxy, proxy, "wrong", spoofed)).status).toBe(429);
    expect((await attempt(behindProxy, proxy, API_TOKEN, { "x-forwarded-for": "192.0.2.51" })).status).toBe(
      303,
    );
  });
});
