import { relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { findDevEndpoint } from "@foundry/client";
import { CliError } from "./errors.ts";
import { EXIT } from "./exit-codes.ts";

/** The checkout this CLI runs from: its `.data/dev.json` is found from any directory. */
const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));

/** Where the CLI sends its requests, and where that came from (for messages). */
export interface Connection {
  url: string;
  token: string | undefined;
  /** The `npm run dev` discovery file the URL or token was read from, if any. */
  devFile: { path: string; pid: number } | null;
}

/**
 * `--url`/`API_URL` and `--token`/`API_TOKEN` when given; otherwise what a running `npm run dev`
 * wrote in `.data/dev.json`, looked for from `cwd` upwards, then in this CLI's checkout. A token
 * is taken from that file only for the URL it names.
 */
export async function resolveConnection(
  options: { url?: string; token?: string },
  cwd: string,
  warn: (line: string) => void,
): Promise<Connection> {
  const url = options.url || undefined;
  const token = options.token || undefined;
  if (url && token) return { url: checkUrl(url), token, devFile: null };

  const search = await findDevEndpoint(cwd, [REPO_ROOT]);
  for (const passed of search.ignored) {
    warn(`foundry: ignoring ${pretty(passed.file, cwd)}: ${passed.reason}`);
  }
  if (url) {
    const checked = checkUrl(url);
    // The dev file's token belongs to the dev API only.
    if (search.kind === "found" && sameOrigin(search.endpoint.url, checked)) {
      return {
        url: checked,
        token: search.endpoint.token,
        devFile: { path: search.file, pid: search.endpoint.pid },
      };
    }
    return { url: checked, token: undefined, devFile: null };
  }
  if (search.kind === "found") {
    return {
      url: checkUrl(search.endpoint.url),
      token: token ?? search.endpoint.token,
      devFile: { path: search.file, pid: search.endpoint.pid },
    };
  }
  const repo = REPO_ROOT.replace(/\/$/, "");
  const inRepo = `${resolve(cwd)}/`.startsWith(`${repo}/`) || repo === "";
  throw new CliError(
    "NO_API",
    "no API to talk to: no running `npm run dev` found " +
      `(looked for .data/dev.json in ${cwd} and its parents${inRepo ? "" : `, and in ${repo}`}). ` +
      "Start one with `npm run dev` in the Foundry checkout, or set API_URL and API_TOKEN (or --url and --token).",
    { exitCode: EXIT.usage },
  );
}

function checkUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw usage(`--url/API_URL is not a URL: "${text}"`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw usage(`--url/API_URL must be an http or https URL, not "${url.protocol}"`);
  if (url.username || url.password)
    throw usage("--url/API_URL must not contain credentials: pass the token with API_TOKEN or --token");
  return `${url.origin}${url.pathname}`;
}

function sameOrigin(a: string, b: string): boolean {
  try {
    return new URL(a).origin === new URL(b).origin;
  } catch {
    return false;
  }
}

function pretty(path: string, cwd: string): string {
  const rel = relative(cwd, path);
  return rel.startsWith("..") ? path : rel;
}

function usage(message: string): CliError {
  return new CliError("USAGE", message, { exitCode: EXIT.usage });
}
