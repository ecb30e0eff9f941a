// Model output is untrusted: every generated path is checked before anything touches the disk.

/** Limits on what one session may write. */
export interface FileLimits {
  /** @default 500 */
  maxFiles: number;
  /** @default 1 MiB */
  maxFileBytes: number;
  /** @default 20 MiB */
  maxTotalBytes: number;
}

export const DEFAULT_FILE_LIMITS: FileLimits = {
  maxFiles: 500,
  maxFileBytes: 1024 * 1024,
  maxTotalBytes: 20 * 1024 * 1024,
};

const MAX_PATH_LENGTH = 512;
const MAX_SEGMENT_LENGTH = 255;
const MAX_DEPTH = 32;

export type PathCheck = { ok: true; path: string } | { ok: false; reason: string };

/**
 * Normalises a generated file path to a relative POSIX path inside the workspace, or says why it
 * is refused: absolute paths, `..`, `.git`, backslashes, control characters, over-long paths.
 */
export function checkGeneratedPath(raw: unknown): PathCheck {
  if (typeof raw !== "string" || raw.trim() === "") return { ok: false, reason: "the path is empty" };
  if (raw.length > MAX_PATH_LENGTH)
    return { ok: false, reason: `the path is longer than ${MAX_PATH_LENGTH} characters` };
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  if (/[\u0000-\u001f\u007f]/.test(raw)) return { ok: false, reason: "the path contains control characters" };
  if (raw.includes("\\"))
    return { ok: false, reason: "the path contains a backslash (use / between directories)" };
  if (raw.startsWith("/") || raw.startsWith("~") || /^[A-Za-z]:/.test(raw)) {
    return { ok: false, reason: "absolute paths are not allowed" };
  }
  const segments = raw.split("/").filter((segment) => segment !== "" && segment !== ".");
  if (segments.length === 0) return { ok: false, reason: "the path names no file" };
  if (segments.includes("..")) return { ok: false, reason: "the path leaves its directory (..)" };
  if (segments.some((segment) => segment.toLowerCase() === ".git")) {
    return { ok: false, reason: "paths inside .git are not allowed" };
  }
  if (segments.length > MAX_DEPTH)
    return { ok: false, reason: `the path is deeper than ${MAX_DEPTH} directories` };
  if (segments.some((segment) => segment.length > MAX_SEGMENT_LENGTH)) {
    return { ok: false, reason: `a path segment is longer than ${MAX_SEGMENT_LENGTH} characters` };
  }
  return { ok: true, path: segments.join("/") };
}

/** A file as a phase produced it. */
export interface CandidateFile {
  path: unknown;
  content: unknown;
  purpose?: unknown;
  /** The role that wrote it (`backend`). */
  author: string;
  /** The phase that produced it (`implementation`). */
  phase: string;
}

/** A file that passed every check. */
export interface AcceptedFile {
  path: string;
  content: string;
  purpose: string | null;
  author: string;
  phase: string;
  bytes: number;
}

export interface Rejection {
  path: string;
  author: string;
  reason: string;
}

export interface FileMerge {
  path: string;
  authors: string[];
}

/**
 * Checks a set of generated files as a whole: each path, each size, the count and total size, and
 * collisions (two authors writing one path — or paths equal but for case, or a file where another
 * needs a directory). Identical content from two authors is merged and reported; anything else is
 * rejected. Returns every rejection, so one failure names all the bad paths at once.
 */
export function checkFiles(
  candidates: readonly CandidateFile[],
  limits: FileLimits = DEFAULT_FILE_LIMITS,
): { accepted: AcceptedFile[]; rejected: Rejection[]; merged: FileMerge[] } {
  const accepted = new Map<string, AcceptedFile>();
  const rejected: Rejection[] = [];
  const merged: FileMerge[] = [];
  let total = 0;

  if (candidates.length > limits.maxFiles) {
    rejected.push({
      path: "(all)",
      author: [...new Set(candidates.map((file) => file.author))].join(", "),
      reason: `${candidates.length} files exceed the limit of ${limits.maxFiles}`,
    });
    return { accepted: [], rejected, merged };
  }

  for (const file of candidates) {
    const shown = typeof file.path === "string" ? file.path.slice(0, 200) : String(file.path);
    const reject = (reason: string) => rejected.push({ path: shown, author: file.author, reason });
    const checked = checkGeneratedPath(file.path);
    if (!checked.ok) {
      reject(checked.reason);
      continue;
    }
    if (typeof file.content !== "string") {
      reject("the content is not text");
      continue;
    }
    if (!file.content.isWellFormed()) {
      reject("the content is not valid Unicode text");
      continue;
    }
    const bytes = Buffer.byteLength(file.content, "utf8");
    if (bytes > limits.maxFileBytes) {
      reject(`${bytes} bytes exceed the per-file limit of ${limits.maxFileBytes}`);
      continue;
    }
    const key = checked.path.toLowerCase();
    const existing = accepted.get(key);
    if (existing) {
      if (existing.path === checked.path && existing.content === file.content) {
        merged.push({ path: checked.path, authors: [existing.author, file.author] });
      } else {
        reject(`collides with ${existing.path} written by ${existing.author}`);
      }
      continue;
    }
    total += bytes;
    if (total > limits.maxTotalBytes) {
      reject(`the files exceed the total limit of ${limits.maxTotalBytes} bytes`);
      continue;
    }
    accepted.set(key, {
      path: checked.path,
      content: file.content,
      purpose: typeof file.purpose === "string" ? file.purpose : null,
      author: file.author,
      phase: file.phase,
      bytes,
    });
  }

  // A file cannot sit where another file needs a directory (`app` and `app/main.js`).
  const paths = new Set(accepted.keys());
  for (const [key, file] of accepted) {
    const parts = key.split("/");
    for (let depth = 1; depth < parts.length; depth++) {
      const parent = parts.slice(0, depth).join("/");
      if (paths.has(parent)) {
        rejected.push({
          path: file.path,
          author: file.author,
          reason: `${parent} is a file, not a directory`,
        });
        break;
      }
    }
  }
  return { accepted: rejected.length > 0 ? [] : [...accepted.values()], rejected, merged };
}
