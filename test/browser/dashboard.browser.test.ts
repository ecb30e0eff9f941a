import { mkdir } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { type ServerType, serve } from "@hono/node-server";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium } from "../support/browser.ts";
import { API_TOKEN, type Stack, startStack } from "../support/stack.ts";

// The dashboard in a real browser: Debian's Chromium driven by playwright-core against the real app
// on a real port, with real workers and the provider simulator. A person signs in, submits from the
// form, watches the phases finish without reloading, reads a generated file, opens a slow session
// and cancels it while it runs. Screenshots land in test-artifacts/ on every run.

const ARTIFACTS = fileURLToPath(new URL("../../test-artifacts/", import.meta.url));
const QUEUES = ["orchestrator", "openai", "anthropic", "gemini"];

describe("the dashboard in Chromium", () => {
  let stack: Stack;
  let server: ServerType | undefined;
  let browser: Browser | undefined;
  let base: string;
  /** What a page asked for outside the app, and what it logged as an error (CSP refusals included). */
  const offsite: string[] = [];
  const problems: string[] = [];

  beforeAll(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    // The stack and the browser start side by side (each takes seconds).
    const launching = launchChromium();
    // Rate limits high enough not to slow the run, shown on the load page.
    const limit = { max: 1200, windowMs: 60_000 };
    stack = await startStack({
      limits: { openai: limit, anthropic: limit, gemini: limit },
      // A floor under each manager call, so that even a fast machine shows the phases running.
      simulator: { latencyMs: { openai: 100 } },
    });
    browser = await launching;
    const port = await new Promise<number>((resolve) => {
      server = serve({ fetch: stack.app.fetch, port: 0, hostname: "127.0.0.1" }, (info: AddressInfo) =>
        resolve(info.port),
      );
    });
    base = `http://127.0.0.1:${port}`;
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    await stack?.close();
  });

  async function open(options: { colorScheme?: "light" | "dark"; width?: number } = {}) {
    const context = await (browser as Browser).newContext({
      viewport: { width: options.width ?? 1280, height: 900 },
      colorScheme: options.colorScheme ?? "light",
    });
    context.setDefaultTimeout(15_000);
    const page = await context.newPage();
    await page.route("**/*", (route) => {
      const url = route.request().url();
      if (url.startsWith(`${base}/`)) return route.continue();
      offsite.push(url);
      return route.abort();
    });
    page.on("console", (message) => {
      // The audit view asks for GET /api/audit, which this server may not have (404, shown as such).
      if (message.location().url.endsWith("/api/audit")) return;
      if (message.type() === "error") problems.push(`console: ${message.text()} (${message.location().url})`);
    });
    page.on("pageerror", (error) => problems.push(`page: ${error.message}`));
    return { context, page };
  }

  async function signIn(page: Page, context: BrowserContext) {
    await page.goto(`${base}/`);
    expect(page.url()).toBe(`${base}/login?next=/`);
    await page.getByLabel("API token").fill(API_TOKEN);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(`${base}/`);
    expect((await context.cookies()).map((cookie) => cookie.name)).toEqual(["foundry_login"]);
  }

  it("signs in, submits from the form, follows the phases live to succeeded, opens a file", async () => {
    const { context, page } = await open();
    await signIn(page, context);
    await page.getByRole("heading", { name: "Sessions" }).waitFor();

    // An empty request is refused on the page, naming what is missing.
    await page.getByRole("region", { name: "New session" }).getByRole("button", { name: "Submit" }).click();
    await page.getByRole("alert").getByText("the request must not be empty").waitFor();

    const form = page.getByRole("region", { name: "New session" });
    await form.getByLabel("What to build").fill("Build a todo list app");
    await expect.poll(() => form.getByLabel("Workflow").inputValue()).toBe("software-project");
    await form.getByLabel("Budget (USD, optional)").fill("5");
    await form.getByRole("button", { name: "Submit" }).click();
    await page.waitForURL(/\/\?session=[0-9a-f-]{36}$/);
    const id = new URL(page.url()).searchParams.get("session") as string;
    // Marks this document: a reload would lose the mark.
    await page.evaluate(() => {
      (globalThis as unknown as { mark: string }).mark = "same document";
    });

    // Live: running, then succeeded, without a reload.
    const status = page.locator("#session-status [data-status]");
    await page.locator("#session-status [data-status=running]").waitFor();
    await page.locator("#phases [data-status=running], #phases [data-status=waiting]").first().waitFor();
    await page.locator("#session-status [data-status=succeeded]").waitFor({ timeout: 30_000 });
    expect(await page.evaluate(() => (globalThis as unknown as { mark?: string }).mark)).toBe(
      "same document",
    );
    expect(await status.textContent()).toBe("succeeded");

    const view = (await (await stack.request(`/api/sessions/${id}`)).json()) as {
      phases: { id: string; status: string }[];
      calls: { provider: string }[];
      files: { path: string }[];
      budgetUsd: number;
    };
    expect(view.budgetUsd).toBe(5);
    for (const phase of view.phases) {
      await expect
        .poll(() => page.locator(`#phases [data-phase="${phase.id}"] [data-status]`).textContent(), {
          message: phase.id,
        })
        .toBe(phase.status);
    }
    await expect.poll(() => page.locator("#calls tbody tr[data-call]").count()).toBe(view.calls.length);
    await page.locator("#requirements dl").first().waitFor();
    await page.locator("#backend-plan dl").first().waitFor();
    await page.locator("#frontend-plan dl").first().waitFor();
    await page.locator("#commits code").first().waitFor();
    await page.locator('#log [data-type="session.succeeded"]').waitFor();

    // A generated file, from the tree into the viewer (as text).
    const path = view.files[0]?.path as string;
    await page.locator(`#file-tree button[data-path="${path}"]`).click();
    const expected = await (await stack.request(`/api/sessions/${id}/files/${path}`)).text();
    await expect.poll(() => page.locator("#file-viewer code").textContent()).toBe(expected);
    await page.screenshot({ path: `${ARTIFACTS}dashboard-session.png`, fullPage: true });
    await page.evaluate("window.scrollTo(0, 0)");
    await page.screenshot({ path: `${ARTIFACTS}dashboard-session-top.png` });

    // Back to the list: the session is there, succeeded, with its cost.
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Sessions" }).click();
    const row = page.locator(`#sessions tr[data-session="${id}"]`);
    await row.locator("[data-status=succeeded]").waitFor();
    await page.screenshot({ path: `${ARTIFACTS}dashboard-list.png`, fullPage: true });

    // The load page: a row per queue, and the chart.
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Load" }).click();
    for (const name of QUEUES) await page.locator(`#queues tr[data-queue="${name}"]`).waitFor();
    for (const provider of ["openai", "anthropic", "gemini"]) {
      const cells = page.locator(`#providers tr[data-provider="${provider}"] td`);
      await expect.poll(() => cells.nth(0).textContent()).toBe("1200 per 60 s");
      // The session's calls of this provider are counted (column "Calls").
      expect(Number(await cells.nth(3).textContent()), provider).toBe(
        view.calls.filter((call) => call.provider === provider).length,
      );
    }
    await page.screenshot({ path: `${ARTIFACTS}dashboard-load.png`, fullPage: true });

    // The audit view says when the server has no audit trail.
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Audit" }).click();
    await page.getByRole("heading", { name: "Audit trail" }).waitFor();
    await page.locator("#audit, [role=alert]").first().waitFor();
    await context.close();
  });

  it("opens a slow session from the list and cancels it while it runs (dark, phone-sized)", async () => {
    const { context, page } = await open({ colorScheme: "dark", width: 390 });
    await signIn(page, context);
    expect(await page.locator("html").getAttribute("data-bs-theme")).toBe("dark");
    // On a phone the menu folds behind a button that opens it.
    const menu = page.getByRole("navigation", { name: "Main" });
    expect(await menu.getByRole("link", { name: "Load" }).isVisible()).toBe(false);
    await menu.getByRole("button", { name: "Menu" }).click();
    await menu.getByRole("link", { name: "Load" }).waitFor();
    await menu.getByRole("button", { name: "Menu" }).click();
    stack.sim.configure({ latencyMs: { anthropic: 20_000 } });
    try {
      const id = await stack.submit("Build a slow blog");
      const link = page.locator(`#sessions tr[data-session="${id}"] a`);
      // The list is live: the new session appears without a reload.
      await link.waitFor();
      await link.focus();
      await page.keyboard.press("Enter");
      await page.waitForURL(`${base}/?session=${id}`);
      await page.locator("#session-status [data-status=running]").waitFor();
      // Opened mid-run: everything so far (from the submission on), then the rest live.
      await page.locator('#log [data-type="session.submitted"]').waitFor();
      await page.locator("#calls [data-status=running]").first().waitFor();
      await page.screenshot({ path: `${ARTIFACTS}dashboard-session-phone-dark.png`, fullPage: true });
      await page.getByRole("button", { name: "Cancel" }).click();
      await page.locator("#session-status [data-status=cancelled]").waitFor();
      await page.locator('#log [data-type="session.cancelled"]').waitFor();
      // Every event of the session is in the log, once (late ones, such as aborted calls, too).
      await expect
        .poll(
          async () =>
            (await page.locator("#log tr[data-event]").count()) -
            (await stack.db.prisma.sessionEvent.count({ where: { sessionId: id } })),
        )
        .toBe(0);
      await page.getByRole("button", { name: "Retry" }).waitFor();
      expect(await page.getByRole("button", { name: "Retry" }).isEnabled()).toBe(true);
      const summary = (await (await stack.request(`/api/sessions/${id}?view=summary`)).json()) as {
        status: string;
      };
      expect(summary.status).toBe("cancelled");
    } finally {
      stack.sim.configure({ latencyMs: { anthropic: null } });
    }
    await context.close();
  });

  it("fetched nothing outside the app and logged no error", () => {
    expect(offsite).toEqual([]);
    expect(problems).toEqual([]);
  });
});
