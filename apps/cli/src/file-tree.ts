import type { GeneratedFile } from "@foundry/client";
import { formatBytes, plural, table } from "./format.ts";
import type { Style } from "./output.ts";

interface Dir {
  dirs: Map<string, Dir>;
  files: GeneratedFile[];
}

/**
 * `foundry files`: the files as a tree (directories first, then files, each by name), with each
 * file's size and author, and a total.
 *
 * @example
 * src/
 * ├── api/
 * │   └── server.ts  1.2 KiB  backend
 * └── main.ts        310 B    frontend
 * README.md          840 B    manager
 */
export function formatFileTree(files: readonly GeneratedFile[], style: Style): string[] {
  const root: Dir = { dirs: new Map(), files: [] };
  for (const file of files) {
    const parts = file.path.split("/");
    let dir = root;
    for (const part of parts.slice(0, -1)) {
      let next = dir.dirs.get(part);
      if (!next) {
        next = { dirs: new Map(), files: [] };
        dir.dirs.set(part, next);
      }
      dir = next;
    }
    dir.files.push(file);
  }
  const rows: string[][] = [];
  const walk = (dir: Dir, prefix: string, top: boolean) => {
    const entries = [
      ...[...dir.dirs].sort(([a], [b]) => compare(a, b)).map(([name, sub]) => ({ name, sub, file: null })),
      ...dir.files
        .map((file) => ({ name: file.path.split("/").at(-1) ?? file.path, sub: null, file }))
        .sort((a, b) => compare(a.name, b.name)),
    ];
    entries.forEach((entry, index) => {
      const last = index === entries.length - 1;
      const branch = top ? "" : last ? "└── " : "├── ";
      if (entry.sub) {
        rows.push([`${prefix}${branch}${style.bold(`${entry.name}/`)}`]);
        walk(entry.sub, top ? "" : `${prefix}${last ? "    " : "│   "}`, false);
      } else if (entry.file) {
        rows.push([`${prefix}${branch}${entry.name}`, formatBytes(entry.file.sizeBytes), entry.file.author]);
      }
    });
  };
  walk(root, "", true);
  const total = files.reduce((sum, file) => sum + file.sizeBytes, 0);
  return [...table(rows), style.dim(`${plural(files.length, "file")}, ${formatBytes(total)}`)];
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
