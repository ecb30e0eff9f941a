import { mkdir } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import type { SessionView } from "@foundry/engine";
import { type ServerType, serve } from "@hono/node-server";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium } from "../support/browser.ts";
import { API_TOKEN, type Stack, startStack } from "../support/stack.ts";

// Bull Board in a real browser: Debian's Chromium driven by playwright-core against the real app on
// a real port, after a real session has run through the workers and the provider simulator.

const ARTIFACTS = fileURLToPath(new URL("../../test-artifacts/", import.meta.url));
const SCREENSHOT = `${ARTIFACTS}bull-board.png`;
const QUEUES = ["orchestrator", "openai", "anthropic", "gemini"];

describe("Bull Board in Chromium", () => {
  let stack: Stack;
  let server: ServerType | undefined;
  let browser: Browser | undefined;
  let base: string;
  let session: SessionView;

  beforeAll(async () => {
    stack = await startStack();
    const port = await new Promise<number>((resolve) => {
      server = serve({ fetch: stack.app.fetch, port: 0, hostname: "127.0.0.1" }, (info: AddressInfo) =>
        resolve(info.port),
      );
    });
    base = `http://127.0.0.1:${port}`;
    browser = await launchChromium();
    session = await stack.waitForSession(await stack.submit("Build a todo list app"));
    expect(session.status).toBe("succeeded");
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    await stack?.close();
  });

  it("signs in through the login page, shows every queue and the session's phase jobs, signs out", async () => {
    const context = await (browser as Browser).newContext({ viewport: { width: 1400, height: 900 } });
    context.setDefaultTimeout(10_000);
    const page = await context.newPage();
    // Nothing outside our app is fetched: this network is closed, and the test must not depend on
    // the outside world. Whatever the pages ask for elsewhere is refused and recorded.
    const offsite: string[] = [];
    await page.route("**/*", (route) => {
      const url = route.request().url();
      if (url.startsWith(`${base}/`)) return route.continue();
      offsite.push(url);
      return route.abort();
    });

    // Not signed in: the board sends the browser to the login page.
    await page.goto(`${base}/admin/queues`);
    expect(page.url()).toBe(`${base}/login?next=/admin/queues`);
    await page.getByLabel("API token").fill("not-the-token");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByText("That token is not valid.").waitFor();
    expect(await context.cookies()).toEqual([]);

    await page.getByLabel("API token").fill(API_TOKEN);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(`${base}/admin/queues`);
    const cookies = await context.cookies();
    expect(cookies).toHaveLength(1);
    expect(cookies[0]).toMatchObject({
      name: "foundry_login",
      path: "/",
      httpOnly: true,
      sameSite: "Strict",
    });
    expect(cookies[0]?.value).not.toContain(API_TOKEN);

    // The overview: every queue, in the menu and as a card.
    const menu = page.getByRole("navigation");
    for (const name of QUEUES) {
      await menu.getByRole("link", { name, exact: true }).waitFor();
      await page.getByRole("main").getByText(name, { exact: true }).waitFor();
    }

    // The orchestrator queue's completed jobs: one per phase of the session, named and identified.
    await menu.getByRole("link", { name: "orchestrator", exact: true }).click();
    await page.waitForURL(`${base}/admin/queues/queue/orchestrator`);
    await page.getByText("workflow phases · job id <session>.<phase>").waitFor();
    const completed = page.getByRole("link", { name: /^completed/i });
    // Its badge counts one completed job per phase.
    expect((await completed.textContent())?.match(/(\d+)$/)?.[1]).toBe(String(session.phases.length));
    await completed.click();
    await page.waitForURL(`${base}/admin/queues/queue/orchestrator?status=completed`);
    await page.getByText(`${session.id}.0.requirements`, { exact: true }).waitFor();
    await page.getByText("phase requirements", { exact: true }).waitFor();
    for (const phase of session.phases) {
      expect(await page.getByText(`${session.id}.0.${phase.id}`, { exact: true }).count(), phase.id).toBe(1);
    }
    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });

    // The header menu's "Sign out" leads to the login page, whose button clears the cookie.
    await page.locator("header button[aria-haspopup=menu]").click();
    await page.getByRole("menuitem", { name: "Sign out" }).click();
    await page.waitForURL(`${base}/login?next=/admin/queues`);
    await page.getByText("You are signed in.").waitFor();
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL(`${base}/login`);
    expect(await context.cookies()).toEqual([]);
    await page.goto(`${base}/admin/queues/queue/orchestrator`);
    expect(page.url()).toBe(`${base}/login?next=/admin/queues/queue/orchestrator`);

    // The board's page links a web font from Google (Bull Board's own index.ejs); nothing else
    // leaves the app.
    expect(offsite.filter((url) => !url.startsWith("https://fonts.googleapis.com/"))).toEqual([]);
    await context.close();
  });
});
