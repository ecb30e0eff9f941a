import { spawn } from "node:child_process";
import { access } from "node:fs/promises";
import { join } from "node:path";
import { type SimpleGit, simpleGit } from "simple-git";
import { initRepository, writeFirstCommits } from "./git-pack.ts";

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

/** A commit of the workspace's history. */
export interface WorkspaceCommit {
  sha: string;
  message: string;
  /** Its `Foundry-Phase:` trailer (read with git's own trailer parser), if it has one. */
  phase: string | null;
}

/**
 * A session's commits, newest first: one git process, or none while the folder has no repository
 * yet (commitPhases creates it).
 */
export async function openRepository(root: string): Promise<WorkspaceCommit[]> {
  if (!(await hasRepository(root))) return [];
  const log = await runGit(root, [
    "log",
    "--format=%H%x1f%B%x1f%(trailers:key=Foundry-Phase,valueonly,separator=%x1d)%x1e",
  ]).catch((error: Error) => {
    // A repository without a commit yet has no HEAD to log.
    if (/does not have any commits|unknown revision|bad default revision/.test(error.message)) return "";
    throw error;
  });
  return log
    .split("\x1e")
    .map((record) => record.replace(/^\n/, ""))
    .filter((record) => record.length > 0)
    .map((record) => {
      const [sha = "", message = "", trailer = ""] = record.split("\x1f");
      const phase =
        trailer
          .split("\x1d")
          .find((value) => /^[\w.-]+$/.test(value.trim()))
          ?.trim() ?? null;
      return { sha, message: message.trimEnd(), phase };
    });
}

export interface PhaseCommit {
  sessionId: string;
  request: string;
  phase: string;
  title: string;
  models: readonly string[];
  files: ReadonlyArray<{ path: string; content: string }>;
}

/** The message of a phase's commit: every line through {@link commitLine}, so no text adds a line. */
export function phaseCommitMessage(commit: Omit<PhaseCommit, "files">): string {
  return [
    commitLine(`${commit.phase}: ${commit.title}`, 200),
    "",
    `Request: ${commitLine(commit.request)}`,
    "",
    `Foundry-Session: ${commitLine(commit.sessionId)}`,
    `Foundry-Phase: ${commitLine(commit.phase)}`,
    `Foundry-Models: ${commitLine(commit.models.join(", "), 1000) || "none"}`,
  ].join("\n");
}

/**
 * Commits each phase's files as one commit on `main`, in order, on top of `parent` (the current
 * HEAD, or null for the first commit), and brings the index in line with the new HEAD (the working
 * tree already holds the files). The repository is created first when the folder has none (also
 * when there is nothing to commit). Returns the new commits' shas in order.
 *
 * A new history (the usual case: one git phase per session) is written by this process (see
 * git-pack.ts); starting git from a large Node process cost more than the rest of the phase. Commits
 * on top of an existing history go through a single `git fast-import` (git's own batch interface:
 * one process for any number of commits and files, which reads the parent's tree), run with
 * `git read-tree` from one spawned shell.
 */
export async function commitPhases(
  root: string,
  parent: string | null,
  commits: readonly PhaseCommit[],
): Promise<string[]> {
  if (!(await hasRepository(root))) await initRepository(root);
  if (commits.length === 0) return [];
  const now = Math.floor(Date.now() / 1000);
  if (parent === null) {
    return writeFirstCommits(
      root,
      commits.map((commit) => ({ message: `${phaseCommitMessage(commit)}\n`, files: commit.files })),
      now,
    );
  }
  const chunks: Buffer[] = [];
  const text = (value: string) => chunks.push(Buffer.from(value, "utf8"));
  const data = (value: string) => {
    const bytes = Buffer.from(value, "utf8");
    text(`data ${bytes.length}\n`);
    chunks.push(bytes);
    text("\n");
  };
  commits.forEach((commit, index) => {
    text(`commit refs/heads/main\nmark :${index + 1}\n`);
    text(
      `author Foundry <foundry@localhost> ${now} +0000\ncommitter Foundry <foundry@localhost> ${now} +0000\n`,
    );
    // Ending in a newline, as `git commit` leaves every message.
    data(`${phaseCommitMessage(commit)}\n`);
    text(index > 0 ? `from :${index}\n` : `from ${parent}\n`);
    for (const file of commit.files) {
      text(`M 100644 inline ${quotePath(file.path)}\n`);
      data(file.content);
    }
    text(`get-mark :${index + 1}\n`);
  });
  text("done\n");
  const git = `git -C "$1" -c commit.gpgsign=false`;
  // fastimport.unpackLimit=1 keeps what fast-import wrote as the pack it is. Below its default
  // (100 objects, so for nearly every phase) fast-import runs `git unpack-objects` to explode the pack
  // into loose objects: one more process per commit for nothing.
  const out = await run(
    "sh",
    [
      "-c",
      `${git} -c fastimport.unpackLimit=1 fast-import --quiet --done --date-format=raw && ${git} read-tree HEAD`,
      "foundry-commit",
      root,
    ],
    Buffer.concat(chunks),
    "git fast-import",
  );
  const shas = out.split("\n").filter((line) => /^[0-9a-f]{40,64}$/.test(line));
  if (shas.length !== commits.length)
    throw new Error(`git fast-import returned ${shas.length} commits, expected ${commits.length}`);
  return shas;
}

async function hasRepository(root: string): Promise<boolean> {
  return access(join(root, ".git")).then(
    () => true,
    () => false,
  );
}

/** A path as fast-import reads it: C-style quoted, so spaces, quotes and backslashes stay literal. */
function quotePath(path: string): string {
  return `"${path.replace(/["\\]/g, "\\$&")}"`;
}

/** Runs git in `root` with `input` on stdin; resolves with stdout, rejects naming git's stderr. */
function runGit(root: string, args: readonly string[], input?: Buffer): Promise<string> {
  return run("git", ["-C", root, "-c", "commit.gpgsign=false", ...args], input, `git ${args[0]}`);
}

/** Runs a command with `input` on stdin; resolves with stdout, rejects naming `what` and its stderr. */
function run(
  command: string,
  args: readonly string[],
  input: Buffer | undefined,
  what: string,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      stdio: ["pipe", "pipe", "pipe"],
      // What git needs to find itself and nothing else of the worker's (which holds provider keys).
      env: {
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        HOME: process.env.HOME ?? "/",
        LANG: "C.UTF-8",
        GIT_TERMINAL_PROMPT: "0",
        GIT_CONFIG_NOSYSTEM: "1",
      },
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => out.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => err.push(chunk));
    child.once("error", reject);
    child.once("close", (code) => {
      if (code === 0) resolve(Buffer.concat(out).toString("utf8"));
      else reject(new Error(`${what} failed (${code}): ${Buffer.concat(err).toString("utf8").trim()}`));
    });
    child.stdin.end(input);
  });
}
