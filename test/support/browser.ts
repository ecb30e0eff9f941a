// Debian's Chromium driven by playwright-core, for the browser tests.
import { existsSync } from "node:fs";
import { type Browser, chromium } from "playwright-core";

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** Starts headless Chromium, or fails saying how to install it. */
export function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium is not installed at ${CHROMIUM}. Install it with \`apt-get install -y chromium\` ` +
        "(Debian/Ubuntu), or point CHROMIUM_PATH at a Chromium or Chrome executable.",
    );
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    // Without the background-networking flags Chromium hangs on a closed network.
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}
