import { access } from "node:fs/promises";
import { join } from "node:path";
import { type SimpleGit, simpleGit } from "simple-git";

const IDENTITY = [
  "user.name=Foundry",
  "user.email=foundry@localhost",
  "commit.gpgsign=false",
  "init.defaultBranch=main",
];

/** A git client for a session workspace, independent of the machine's global identity. */
export function workspaceGit(root: string, extraConfig: readonly string[] = []): SimpleGit {
  return simpleGit({ baseDir: root, config: [...IDENTITY, ...extraConfig], maxConcurrentProcesses: 2 });
}

/** Creates the repository when it does not exist yet (idempotent). */
export async function ensureRepository(root: string): Promise<SimpleGit> {
  const git = workspaceGit(root);
  const exists = await access(join(root, ".git")).then(
    () => true,
    () => false,
  );
  if (!exists) await git.init(["--initial-branch=main"]);
  return git;
}

/** The `Foundry-Phase:` trailers of the commits already made, so a re-run commits nothing twice. */
export async function committedPhases(git: SimpleGit): Promise<Set<string>> {
  const hasHead = await git
    .revparse(["--verify", "HEAD"])
    .then(() => true)
    .catch(() => false);
  if (!hasHead) return new Set();
  const log = await git.raw(["log", "--format=%B%x00"]);
  return new Set(Array.from(log.matchAll(/^Foundry-Phase: (\S+)$/gm), (match) => match[1] as string));
}

export interface PhaseCommit {
  phase: string;
  title: string;
  paths: readonly string[];
  models: readonly string[];
}

/** Commits the given paths as one phase's commit, with the session, phase and models recorded. */
export async function commitPhase(
  git: SimpleGit,
  commit: PhaseCommit & { sessionId: string; request: string },
): Promise<string> {
  const firstLine = commit.request.split("\n")[0]?.slice(0, 120) ?? "";
  const message = [
    `${commit.phase}: ${commit.title}`,
    "",
    `Request: ${firstLine}`,
    "",
    `Foundry-Session: ${commit.sessionId}`,
    `Foundry-Phase: ${commit.phase}`,
    `Foundry-Models: ${commit.models.join(", ") || "none"}`,
  ].join("\n");
  // Paths come from a model: after `--`, and literal, so `-n` or `:!x` stay file names.
  await git.raw(["--literal-pathspecs", "add", "--", ...commit.paths]);
  await git.raw([
    "--literal-pathspecs",
    "commit",
    "--quiet",
    "--allow-empty",
    "-m",
    message,
    "--",
    ...commit.paths,
  ]);
  return (await git.revparse(["HEAD"])).trim();
}
