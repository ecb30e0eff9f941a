import { FoundryError } from "@foundry/errors";
import { Octokit } from "@octokit/rest";
import { simpleGit } from "simple-git";

/** How to reach GitHub (or GitHub Enterprise, or a stand-in server in tests). */
export interface GitHubSettings {
  token: string;
  /** REST API base, e.g. `https://github.example.com/api/v3`. @default https://api.github.com */
  apiUrl?: string;
  /** Create repositories under this organisation instead of the token's user. */
  owner?: string;
  /** @default true */
  privateRepos?: boolean;
  /**
   * The environment git runs with for the push: what it needs to find itself, its home, CA
   * certificates and proxies (see `gitPushEnvironment`). Nothing else of the worker's is passed on.
   */
  env: Record<string, string>;
}

/** Variables of a process environment that a `git push` over HTTPS may need. */
export const GIT_PUSH_ENV_VARS = [
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
] as const;

/** Publishing failed or cannot be done; the message says why and never holds the token. */
export class PublishError extends FoundryError {
  override readonly name = "PublishError";
  declare readonly code: "PUBLISH_NOT_CONFIGURED" | "PUBLISH_FAILED";

  constructor(
    message: string,
    code: PublishError["code"],
    options: { retryable?: boolean; cause?: unknown } = {},
  ) {
    super(message, { code, isRetryable: options.retryable ?? false, cause: options.cause });
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
  root: string,
  settings: GitHubSettings,
  repo: PublishedRepository,
): Promise<void> {
  const basic = Buffer.from(`x-access-token:${settings.token}`).toString("base64");
  // The header goes in through git's environment (GIT_CONFIG_*), not its command line, where any
  // local user could read it in the process table.
  const push = simpleGit({
    baseDir: root,
    allowEnvironment: ["GIT_CONFIG_COUNT", "GIT_CONFIG_KEY_0", "GIT_CONFIG_VALUE_0"],
    unsafe: { allowUnsafeConfigEnvCount: true },
  }).env({
    ...settings.env,
    GIT_CONFIG_COUNT: "1",
    GIT_CONFIG_KEY_0: "http.extraHeader",
    GIT_CONFIG_VALUE_0: `Authorization: Basic ${basic}`,
  });
  try {
    await push.raw(["push", "--quiet", repo.cloneUrl, "HEAD:refs/heads/main"]);
  } catch (cause) {
    const detail = redactToken(redactToken((cause as Error).message, basic), settings.token);
    throw new PublishError(`pushing to ${repo.htmlUrl} failed: ${detail}`, "PUBLISH_FAILED", {
      retryable: true,
    });
  }
  const git = simpleGit({ baseDir: root });
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
