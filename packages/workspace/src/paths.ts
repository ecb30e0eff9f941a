import type { NewGeneratedFile } from "@foundry/store";

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

// Characters a reader cannot see or that end a line somewhere: control characters (C0, DEL, C1),
// format characters (zero-width joiners, bidi overrides, BOM), line and paragraph separators and
// every other default-ignorable code point. macOS (HFS+) ignores several of them when it compares
// names, so `.g\u200cit` would be `.git` there; git refuses such names only when core.protectHFS is on.
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}]/u;
// Characters Windows does not allow in a file name (`:` also opens an NTFS stream: `.git::$INDEX_ALLOCATION`).
const WINDOWS_FORBIDDEN = /[<>:"|?*]/;
// Device names Windows opens instead of a file, with any extension (`nul.txt`, `COM1.log`).
const WINDOWS_DEVICE = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³]|conin\$|conout\$)$/i;

/**
 * Why a single path segment is refused, or null. Besides `.git` itself, refuses the names that git or
 * Windows read as `.git` (`.git.`, `.git ` — Windows drops trailing dots and spaces —, `.git::$DATA`
 * and `git~1`, its 8.3 short name), any name ending in a dot or a space, and Windows device names.
 */
function segmentProblem(segment: string): string | null {
  const lower = segment.toLowerCase();
  if (lower === ".git") return "paths inside .git are not allowed";
  // What NTFS opens: the name before any `:stream` suffix, without trailing dots and spaces.
  const trimmed = (lower.split(":")[0] ?? "").replace(/[. ]+$/, "");
  if (trimmed === ".git" || /^git~\d+$/.test(trimmed)) {
    return `paths inside .git are not allowed (${JSON.stringify(segment)} names .git on Windows)`;
  }
  if (/[. ]$/.test(segment)) {
    return `${JSON.stringify(segment)} ends with a dot or a space, which Windows drops from file names`;
  }
  const device = segment.split(".")[0]?.replace(/ +$/, "") ?? "";
  if (WINDOWS_DEVICE.test(device)) return `${JSON.stringify(segment)} is a reserved device name on Windows`;
  return null;
}

/**
 * Normalises a generated file path to a relative POSIX path inside the workspace, or says why it
 * is refused: absolute paths, `..`, `.git` and every name git, Windows or macOS read as `.git`,
 * backslashes, control and invisible characters, characters and names Windows does not allow,
 * over-long paths.
 */
export function checkGeneratedPath(raw: unknown): PathCheck {
  if (typeof raw !== "string" || raw.trim() === "") return { ok: false, reason: "the path is empty" };
  if (raw.length > MAX_PATH_LENGTH)
    return { ok: false, reason: `the path is longer than ${MAX_PATH_LENGTH} characters` };
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  if (/[\u0000-\u001f\u007f]/.test(raw)) return { ok: false, reason: "the path contains control characters" };
  const invisible = INVISIBLE.exec(raw)?.[0];
  if (invisible !== undefined) {
    const code = (invisible.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, "0");
    return { ok: false, reason: `the path contains an invisible or line-breaking character (U+${code})` };
  }
  if (!raw.isWellFormed()) return { ok: false, reason: "the path is not valid Unicode text" };
  if (raw.includes("\\"))
    return { ok: false, reason: "the path contains a backslash (use / between directories)" };
  if (raw.startsWith("/") || raw.startsWith("~") || /^[A-Za-z]:/.test(raw)) {
    return { ok: false, reason: "absolute paths are not allowed" };
  }
  const segments = raw.split("/").filter((segment) => segment !== "" && segment !== ".");
  if (segments.length === 0) return { ok: false, reason: "the path names no file" };
  if (segments.includes("..")) return { ok: false, reason: "the path leaves its directory (..)" };
  for (const segment of segments) {
    const problem = segmentProblem(segment);
    if (problem) return { ok: false, reason: problem };
  }
  const forbidden = WINDOWS_FORBIDDEN.exec(raw)?.[0];
  if (forbidden !== undefined) {
    return {
      ok: false,
      reason: `the path contains ${forbidden}, which Windows does not allow in file names`,
    };
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

/** A file that passed every check: what the store keeps of it (`replaceGeneratedFiles`). */
export type AcceptedFile = NewGeneratedFile;

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
    // One key for names that case-insensitive or normalising file systems (Windows, macOS) treat as one.
    const key = checked.path.normalize("NFC").toLowerCase();
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
