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

// Everything that ends a line somewhere (git, a terminal, a web view, JavaScript's `m` flag), and
// every other control or invisible format character.
const LINE_BREAK = /\r\n|[\n\r\v\f\u0085\u2028\u2029]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: removing control characters is the point
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\p{Cf}\p{Zl}\p{Zp}]+/gu;

/**
 * The first line of untrusted text, made safe for one line of a commit message (or a repository
 * description): it stops at the first line break of any kind (LF, CR, U+2028, U+2029, …), other
 * control and invisible characters become spaces, and it is cut to `max` characters. Text from a
 * request can then never start a line of its own, so it cannot forge a subject or a trailer.
 */
export function commitLine(text: string, max = 120): string {
  const first = text.split(LINE_BREAK)[0] ?? "";
  return first.replace(UNPRINTABLE, " ").trim().slice(0, max).trim();
}

/**
 * The `Foundry-Phase:` trailers of the commits already made, so a re-run commits nothing twice.
 * Read with git's own trailer parser, which only looks at the message's last paragraph.
 */
export async function committedPhases(git: SimpleGit): Promise<Set<string>> {
  const hasHead = await git
    .revparse(["--verify", "HEAD"])
    .then(() => true)
    .catch(() => false);
  if (!hasHead) return new Set();
  const log = await git.raw(["log", "--format=%(trailers:key=Foundry-Phase,valueonly,separator=%x00)%x00"]);
  return new Set(log.split("\0").filter((value) => /^[\w.-]+$/.test(value)));
}

export interface PhaseCommit {
  phase: string;
  title: string;
  paths: readonly string[];
  models: readonly string[];
}

/**
 * Commits the given paths as one phase's commit, with the session, phase and models recorded as
 * trailers. Every line is passed through {@link commitLine}: no text can add a line of its own.
 */
export async function commitPhase(
  git: SimpleGit,
  commit: PhaseCommit & { sessionId: string; request: string },
): Promise<string> {
  const message = [
    commitLine(`${commit.phase}: ${commit.title}`, 200),
    "",
    `Request: ${commitLine(commit.request)}`,
    "",
    `Foundry-Session: ${commitLine(commit.sessionId)}`,
    `Foundry-Phase: ${commitLine(commit.phase)}`,
    `Foundry-Models: ${commitLine(commit.models.join(", "), 1000) || "none"}`,
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
