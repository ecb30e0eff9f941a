import { Octokit } from "@octokit/rest";
import type { SimpleGit } from "simple-git";

/** How to reach GitHub (or GitHub Enterprise, or a stand-in server in tests). */
export interface GitHubSettings {
  token: string;
  /** REST API base, e.g. `https://github.example.com/api/v3`. @default https://api.github.com */
  apiUrl?: string;
  /** Create repositories under this organisation instead of the token's user. */
  owner?: string;
  /** @default true */
  privateRepos?: boolean;
}

/** Publishing failed or cannot be done; the message says why and never holds the token. */
export class PublishError extends Error {
  override readonly name = "PublishError";
  readonly code: "PUBLISH_NOT_CONFIGURED" | "PUBLISH_FAILED";
  readonly isRetryable: boolean;

  constructor(
    message: string,
    code: PublishError["code"],
    options: { retryable?: boolean; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.code = code;
    this.isRetryable = options.retryable ?? false;
  }
}

export interface PublishedRepository {
  htmlUrl: string;
  cloneUrl: string;
  fullName: string;
}

/** Redacts the token from text that came back from git or the API. */
export function redactToken(text: string, token: string): string {
  return token ? text.replaceAll(token, "***") : text;
}

/**
 * Creates the repository, or finds the one this session created before (`existingUrl` is set) so
 * that a retried phase does not fail on "name already exists".
 */
export async function createOrFindRepository(
  settings: GitHubSettings,
  repo: { name: string; description: string; existingUrl: string | null },
): Promise<PublishedRepository> {
  const octokit = new Octokit({ auth: settings.token, baseUrl: settings.apiUrl ?? "https://api.github.com" });
  try {
    return await createOrFind(octokit, settings, repo);
  } catch (cause) {
    const status = (cause as { status?: number }).status;
    const detail = redactToken((cause as Error).message ?? String(cause), settings.token);
    throw new PublishError(
      `GitHub refused to create repository "${repo.name}": ${detail}`,
      "PUBLISH_FAILED",
      {
        retryable: status === undefined || status >= 500 || status === 429,
      },
    );
  }
}

/**
 * Pushes HEAD to `main` of the repository. The token travels in an HTTP header for this one push
 * and is never written to the repository's config; `origin` is recorded without it.
 */
export async function pushRepository(
  git: SimpleGit,
  settings: GitHubSettings,
  repo: PublishedRepository,
): Promise<void> {
  const basic = Buffer.from(`x-access-token:${settings.token}`).toString("base64");
  try {
    await git
      .env(gitEnvironment())
      .raw([
        "-c",
        `http.extraHeader=Authorization: Basic ${basic}`,
        "push",
        repo.cloneUrl,
        "HEAD:refs/heads/main",
      ]);
  } catch (cause) {
    const detail = redactToken(redactToken((cause as Error).message, basic), settings.token);
    throw new PublishError(`pushing to ${repo.htmlUrl} failed: ${detail}`, "PUBLISH_FAILED", {
      retryable: true,
    });
  }
  const remotes = await git.getRemotes();
  if (!remotes.some((remote) => remote.name === "origin")) await git.addRemote("origin", repo.cloneUrl);
}

async function createOrFind(
  octokit: Octokit,
  settings: GitHubSettings,
  repo: { name: string; description: string; existingUrl: string | null },
): Promise<PublishedRepository> {
  const owner = settings.owner ?? (await octokit.rest.users.getAuthenticated()).data.login;
  if (repo.existingUrl) {
    const found = await octokit.rest.repos.get({ owner, repo: repo.name });
    return { htmlUrl: found.data.html_url, cloneUrl: found.data.clone_url, fullName: found.data.full_name };
  }
  const body = {
    name: repo.name,
    description: repo.description.slice(0, 350),
    private: settings.privateRepos ?? true,
  };
  const created = settings.owner
    ? await octokit.rest.repos.createInOrg({ org: settings.owner, ...body })
    : await octokit.rest.repos.createForAuthenticatedUser(body);
  return {
    htmlUrl: created.data.html_url,
    cloneUrl: created.data.clone_url,
    fullName: created.data.full_name,
  };
}

/**
 * The environment of the push: only what git needs to find itself and its home. The parent's
 * editor, askpass or ssh settings are not passed on (simple-git refuses several of them anyway).
 */
function gitEnvironment(): Record<string, string> {
  const keep = [
    "PATH",
    "HOME",
    "LANG",
    "LC_ALL",
    "TMPDIR",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "HTTPS_PROXY",
    "HTTP_PROXY",
    "NO_PROXY",
  ];
  const env: Record<string, string> = {};
  for (const name of keep) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  return env;
}
