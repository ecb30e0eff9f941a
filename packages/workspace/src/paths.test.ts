import { describe, expect, it } from "vitest";
import { type CandidateFile, checkFiles, checkGeneratedPath, DEFAULT_FILE_LIMITS } from "./paths.ts";

const file = (path: unknown, content: unknown = "x", author = "backend"): CandidateFile => ({
  path,
  content,
  author,
  phase: "implementation",
});

describe("generated paths", () => {
  it.each([
    ["backend/server.js", "backend/server.js"],
    ["./frontend//app.js", "frontend/app.js"],
    ["a/./b/c.txt", "a/b/c.txt"],
    [".github/workflows/ci.yml", ".github/workflows/ci.yml"],
  ])("accepts %j as %j", (raw, normalised) => {
    expect(checkGeneratedPath(raw)).toEqual({ ok: true, path: normalised });
  });

  it.each([
    ["../../etc/passwd", "the path leaves its directory (..)"],
    ["backend/../../x", "the path leaves its directory (..)"],
    ["/etc/passwd", "absolute paths are not allowed"],
    ["C:/Windows/x", "absolute paths are not allowed"],
    ["~/.ssh/authorized_keys", "absolute paths are not allowed"],
    [".git/config", "paths inside .git are not allowed"],
    ["src/.GIT/hooks/pre-commit", "paths inside .git are not allowed"],
    ["a\\b.js", "the path contains a backslash (use / between directories)"],
    ["a\u0000b", "the path contains control characters"],
    ["", "the path is empty"],
    ["./", "the path names no file"],
    [42, "the path is empty"],
    [`${"a/".repeat(40)}x`, "the path is deeper than 32 directories"],
  ])("refuses %j", (raw, reason) => {
    expect(checkGeneratedPath(raw)).toEqual({ ok: false, reason });
  });
});

describe("names git, Windows or macOS read as .git, and names Windows cannot hold", () => {
  const dotGit = (segment: string) =>
    `paths inside .git are not allowed (${JSON.stringify(segment)} names .git on Windows)`;
  it.each([
    [".git./config", dotGit(".git.")],
    [".git /config", dotGit(".git ")],
    [".GIT. . /hooks/pre-commit", dotGit(".GIT. . ")],
    ["git~1/config", dotGit("git~1")],
    ["src/GIT~2/hooks/post-checkout", dotGit("GIT~2")],
    [".git::$INDEX_ALLOCATION/config", dotGit(".git::$INDEX_ALLOCATION")],
    // macOS (HFS+) ignores these when comparing names: `.g\u200cit` is `.git` there.
    [".g\u200cit/config", "the path contains an invisible or line-breaking character (U+200C)"],
    [".git\u200d/config", "the path contains an invisible or line-breaking character (U+200D)"],
    ["\ufeff.git/config", "the path contains an invisible or line-breaking character (U+FEFF)"],
    ["src/a\u200bb.js", "the path contains an invisible or line-breaking character (U+200B)"],
    ["src/\u202egnp.js", "the path contains an invisible or line-breaking character (U+202E)"],
    ["a\u2028b.js", "the path contains an invisible or line-breaking character (U+2028)"],
    ["a\u0085b.js", "the path contains an invisible or line-breaking character (U+0085)"],
    ["src/app.js.", '"app.js." ends with a dot or a space, which Windows drops from file names'],
    ["src /app.js", '"src " ends with a dot or a space, which Windows drops from file names'],
    ["...", '"..." ends with a dot or a space, which Windows drops from file names'],
    ["con", '"con" is a reserved device name on Windows'],
    ["src/NUL.txt", '"NUL.txt" is a reserved device name on Windows'],
    ["src/aux.tar.gz", '"aux.tar.gz" is a reserved device name on Windows'],
    ["logs/com1.log", '"com1.log" is a reserved device name on Windows'],
    ["LPT9", '"LPT9" is a reserved device name on Windows'],
    ["com\u00b9", '"com\u00b9" is a reserved device name on Windows'],
    ["prn .md", '"prn .md" is a reserved device name on Windows'],
    ["CONOUT$", '"CONOUT$" is a reserved device name on Windows'],
    ["src/a:b.js", "the path contains :, which Windows does not allow in file names"],
    ["what?.md", "the path contains ?, which Windows does not allow in file names"],
    ["a|b", "the path contains |, which Windows does not allow in file names"],
    ["src/<x>.js", "the path contains <, which Windows does not allow in file names"],
  ])("refuses %j", (raw, reason) => {
    expect(checkGeneratedPath(raw)).toEqual({ ok: false, reason });
  });

  it.each([
    ".gitignore",
    ".gitattributes",
    ".github/workflows/ci.yml",
    "git/notes.md",
    "console.js",
    "com10.txt",
    "lpt.md",
    "src/.gitkeep",
    "a.b.c",
  ])("still accepts %j", (raw) => {
    expect(checkGeneratedPath(raw)).toEqual({ ok: true, path: raw });
  });

  it("treats names equal after Unicode normalisation as one file", () => {
    const clash = checkFiles([file("caf\u00e9.md", "a", "backend"), file("cafe\u0301.md", "b", "frontend")]);
    expect(clash.rejected).toEqual([
      { path: "cafe\u0301.md", author: "frontend", reason: "collides with caf\u00e9.md written by backend" },
    ]);
  });
});

describe("a set of generated files", () => {
  it("rejects oversized files and too many files, naming the limit", () => {
    const big = checkFiles([file("big.bin", "x".repeat(DEFAULT_FILE_LIMITS.maxFileBytes + 1))]);
    expect(big.accepted).toEqual([]);
    expect(big.rejected[0]?.reason).toBe(
      `${DEFAULT_FILE_LIMITS.maxFileBytes + 1} bytes exceed the per-file limit of ${DEFAULT_FILE_LIMITS.maxFileBytes}`,
    );

    const many = checkFiles(Array.from({ length: 10_000 }, (_, index) => file(`f${index}.txt`)));
    expect(many.accepted).toEqual([]);
    expect(many.rejected).toEqual([
      { path: "(all)", author: "backend", reason: "10000 files exceed the limit of 500" },
    ]);

    const total = checkFiles(
      Array.from({ length: 4 }, (_, index) => file(`f${index}`, "y".repeat(600))),
      { maxFiles: 10, maxFileBytes: 1000, maxTotalBytes: 2000 },
    );
    expect(total.rejected.map((r) => r.path)).toEqual(["f3"]);
    expect(total.accepted).toEqual([]);
  });

  it("rejects collisions between authors, but merges identical files", () => {
    const clash = checkFiles([
      file("package.json", "{}", "backend"),
      file("package.json", "{ }", "frontend"),
    ]);
    expect(clash.rejected).toEqual([
      { path: "package.json", author: "frontend", reason: "collides with package.json written by backend" },
    ]);
    const caseClash = checkFiles([file("App.js", "a", "backend"), file("app.js", "b", "frontend")]);
    expect(caseClash.rejected[0]?.reason).toBe("collides with App.js written by backend");
    const same = checkFiles([
      file(".gitignore", "node_modules\n", "backend"),
      file(".gitignore", "node_modules\n", "frontend"),
    ]);
    expect(same.rejected).toEqual([]);
    expect(same.accepted.map((f) => f.path)).toEqual([".gitignore"]);
    expect(same.merged).toEqual([{ path: ".gitignore", authors: ["backend", "frontend"] }]);
  });

  it("rejects a file where another needs a directory, and text that is not Unicode", () => {
    const shadow = checkFiles([file("app", "x"), file("app/main.js", "y")]);
    expect(shadow.rejected).toEqual([
      { path: "app/main.js", author: "backend", reason: "app is a file, not a directory" },
    ]);
    const broken = checkFiles([file("bad.txt", "ok \ud800 not ok")]);
    expect(broken.rejected[0]?.reason).toBe("the content is not valid Unicode text");
    const notText = checkFiles([file("x.txt", { evil: true })]);
    expect(notText.rejected[0]?.reason).toBe("the content is not text");
  });

  it("reports every bad path at once and accepts nothing when one is bad", () => {
    const result = checkFiles([file("ok.js"), file("../escape.js"), file("/abs.js"), file(".git/config")]);
    expect(result.accepted).toEqual([]);
    expect(result.rejected.map((r) => r.path)).toEqual(["../escape.js", "/abs.js", ".git/config"]);
  });
});
