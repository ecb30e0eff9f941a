import { createHash, randomUUID } from "node:crypto";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { crc32, deflateSync } from "node:zlib";

// A new repository's first commits, written by this process instead of by git: the blobs, trees and
// commits as one pack (with its index), then `refs/heads/main`, then the index file, each through a
// lock file and a rename as git does it. These are git's documented formats (gitformat-pack,
// gitformat-index), version 2 of each, with SHA-1 object names. The commits are byte for byte what
// `git fast-import` makes of the same input, and git.test.ts holds them to what `git commit` makes.
//
// Why not git: the whole history of a new workspace is a few kilobytes, and starting git processes
// from a large Node process cost more than everything else in the git phase (three git processes
// and a shell, 50–60 ms for 12 files, against a few milliseconds here). isomorphic-git was measured
// too: its pure JavaScript SHA-1 and deflate made it no faster than the processes (about 60 ms).

/** What `git init --template= --initial-branch=main` writes. */
const CONFIG =
  "[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n\tbare = false\n\tlogallrefupdates = true\n";

/** Makes `root/.git` as `git init --template= --initial-branch=main` does, when it is not there. */
export async function initRepository(root: string): Promise<void> {
  const dir = join(root, ".git");
  await Promise.all([
    mkdir(join(dir, "objects", "info"), { recursive: true }),
    mkdir(join(dir, "objects", "pack"), { recursive: true }),
    mkdir(join(dir, "refs", "heads"), { recursive: true }),
    mkdir(join(dir, "refs", "tags"), { recursive: true }),
  ]);
  await Promise.all([
    writeFile(join(dir, "HEAD"), "ref: refs/heads/main\n", { flag: "wx" }).catch(ignoreExists),
    writeFile(join(dir, "config"), CONFIG, { flag: "wx" }).catch(ignoreExists),
  ]);
}

function ignoreExists(error: NodeJS.ErrnoException): void {
  if (error.code !== "EEXIST") throw error;
}

/** One commit to write: its message (as stored, with its final newline) and the files it adds or changes. */
export interface NewCommit {
  message: string;
  files: ReadonlyArray<{ path: string; content: string }>;
}

type ObjectType = "commit" | "tree" | "blob";
const TYPE_CODES: Record<ObjectType, number> = { commit: 1, tree: 2, blob: 3 };

interface GitObject {
  type: ObjectType;
  body: Buffer;
  sha: Buffer;
}

/** A directory of the tree being built: files by name (their blob's sha) and subdirectories. */
interface Directory {
  files: Map<string, Buffer>;
  directories: Map<string, Directory>;
}

/**
 * Writes `commits` in order as the history of `main` in the repository at `root` (made by
 * initRepository), which must not have a `main` yet: each commit's tree holds its files and those
 * of the commits before it. Fails without changing `main` when another writer made it meanwhile.
 * Returns the commits' shas in order.
 */
export async function writeFirstCommits(
  root: string,
  commits: readonly NewCommit[],
  now: number,
): Promise<string[]> {
  const objects = new Map<string, GitObject>();
  const add = (type: ObjectType, body: Buffer): Buffer => {
    const sha = createHash("sha1").update(`${type} ${body.length}\0`).update(body).digest();
    const hex = sha.toString("hex");
    if (!objects.has(hex)) objects.set(hex, { type, body, sha });
    return sha;
  };
  const top: Directory = { files: new Map(), directories: new Map() };
  /** Every file of the history so far, by path, for the index. */
  const tracked = new Map<string, Buffer>();
  const shas: string[] = [];
  let parent: string | null = null;
  for (const commit of commits) {
    for (const file of commit.files) {
      const sha = add("blob", Buffer.from(file.content, "utf8"));
      place(top, file.path, sha);
      tracked.set(file.path, sha);
    }
    const tree = writeTree(top, add).toString("hex");
    const signature = `Foundry <foundry@localhost> ${now} +0000`;
    const header: string = `tree ${tree}\n${parent ? `parent ${parent}\n` : ""}author ${signature}\ncommitter ${signature}\n\n`;
    parent = add("commit", Buffer.from(header + commit.message, "utf8")).toString("hex");
    shas.push(parent);
  }
  const head = shas.at(-1);
  if (head === undefined) return shas;

  const git = join(root, ".git");
  // main first: a writer that finds it taken (a duplicate delivery of the phase) writes nothing.
  const ref = await lockNewRef(git, "refs/heads/main", head);
  try {
    const { pack, index, name } = packOf([...objects.values()]);
    const packs = join(git, "objects", "pack");
    await mkdir(packs, { recursive: true });
    // The pack before its index: a reader finds packs by their index, and then the pack is whole.
    await writeRenamed(join(packs, `pack-${name}.pack`), pack);
    await writeRenamed(join(packs, `pack-${name}.idx`), index);
  } catch (error) {
    await ref.release();
    throw error;
  }
  await ref.commit();
  await writeLocked(join(git, "index"), indexOf(tracked));
  return shas;
}

/** Puts a blob at `path` (slash-separated) in the directory tree. */
function place(top: Directory, path: string, sha: Buffer): void {
  const parts = path.split("/");
  const name = parts.pop() as string;
  let directory = top;
  for (const part of parts) {
    if (directory.files.has(part)) throw new Error(`cannot commit ${path}: ${part} is a file`);
    let next = directory.directories.get(part);
    if (!next) {
      next = { files: new Map(), directories: new Map() };
      directory.directories.set(part, next);
    }
    directory = next;
  }
  if (directory.directories.has(name)) throw new Error(`cannot commit ${path}: it is a directory`);
  directory.files.set(name, sha);
}

/**
 * A tree object for `directory` and its subdirectories (added through `add`), returning its sha.
 * Entries are in git's order: by name's bytes, a directory's name compared as if it ended in `/`.
 */
function writeTree(directory: Directory, add: (type: ObjectType, body: Buffer) => Buffer): Buffer {
  const entries: Array<{ key: Buffer; mode: string; name: string; sha: Buffer }> = [];
  for (const [name, sha] of directory.files) {
    entries.push({ key: Buffer.from(name, "utf8"), mode: "100644", name, sha });
  }
  for (const [name, sub] of directory.directories) {
    entries.push({ key: Buffer.from(`${name}/`, "utf8"), mode: "40000", name, sha: writeTree(sub, add) });
  }
  entries.sort((a, b) => Buffer.compare(a.key, b.key));
  return add(
    "tree",
    Buffer.concat(
      entries.flatMap((entry) => [Buffer.from(`${entry.mode} ${entry.name}\0`, "utf8"), entry.sha]),
    ),
  );
}

function uint32(value: number): Buffer {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(value);
  return bytes;
}

/** A version 2 pack of `objects`, undeltified, its version 2 index, and its name (the pack's checksum). */
function packOf(objects: readonly GitObject[]): { pack: Buffer; index: Buffer; name: string } {
  const parts: Buffer[] = [Buffer.from("PACK"), uint32(2), uint32(objects.length)];
  let offset = 12;
  const entries = objects.map((object) => {
    // The object's type and size: 3 bits of type and 4 of size, then 7 bits of size per byte.
    const head: number[] = [];
    let size = object.body.length;
    let byte = (TYPE_CODES[object.type] << 4) | (size & 0x0f);
    size = Math.floor(size / 16);
    while (size > 0) {
      head.push(byte | 0x80);
      byte = size & 0x7f;
      size = Math.floor(size / 128);
    }
    head.push(byte);
    const packed = Buffer.concat([Buffer.from(head), deflateSync(object.body)]);
    parts.push(packed);
    const entry = { sha: object.sha, offset, crc: crc32(packed) };
    offset += packed.length;
    return entry;
  });
  const body = Buffer.concat(parts);
  const checksum = createHash("sha1").update(body).digest();

  entries.sort((a, b) => Buffer.compare(a.sha, b.sha));
  const fanout = Buffer.alloc(256 * 4);
  for (let first = 0, seen = 0; first < 256; first++) {
    while (seen < entries.length && (entries[seen]?.sha[0] ?? 256) <= first) seen++;
    fanout.writeUInt32BE(seen, first * 4);
  }
  const index = Buffer.concat([
    Buffer.from([0xff, 0x74, 0x4f, 0x63]),
    uint32(2),
    fanout,
    ...entries.map((entry) => entry.sha),
    ...entries.map((entry) => uint32(entry.crc)),
    ...entries.map((entry) => uint32(entry.offset)),
    checksum,
  ]);
  return {
    pack: Buffer.concat([body, checksum]),
    index: Buffer.concat([index, createHash("sha1").update(index).digest()]),
    name: checksum.toString("hex"),
  };
}

/**
 * A version 2 index of `files` with no stat data, as `git read-tree` leaves it: git compares their
 * content on its next look (`git status`) and finds them unchanged.
 */
function indexOf(files: ReadonlyMap<string, Buffer>): Buffer {
  const paths = [...files.keys()]
    .map((path) => Buffer.from(path, "utf8"))
    .sort((a, b) => Buffer.compare(a, b));
  const parts: Buffer[] = [Buffer.from("DIRC"), uint32(2), uint32(paths.length)];
  for (const path of paths) {
    // ctime, mtime (seconds and nanoseconds), dev, ino: zero; the mode; uid, gid, size: zero.
    const entry = Buffer.alloc(((62 + path.length + 8) >> 3) << 3);
    entry.writeUInt32BE(0o100644, 24);
    (files.get(path.toString("utf8")) as Buffer).copy(entry, 40);
    entry.writeUInt16BE(Math.min(path.length, 0xfff), 60);
    path.copy(entry, 62);
    parts.push(entry);
  }
  const body = Buffer.concat(parts);
  return Buffer.concat([body, createHash("sha1").update(body).digest()]);
}

/** Writes a file whole or not at all: a temporary file, then a rename. Read-only, as git leaves packs. */
async function writeRenamed(path: string, bytes: Buffer): Promise<void> {
  const temporary = `${path}.${randomUUID()}.tmp`;
  await writeFile(temporary, bytes, { mode: 0o444 });
  await rename(temporary, path);
}

/** Writes `path` through `path.lock` as git does, failing when someone else holds the lock. */
async function writeLocked(path: string, bytes: Buffer): Promise<void> {
  const lock = `${path}.lock`;
  await writeFile(lock, bytes, { flag: "wx" }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "EEXIST") throw new Error(`${lock} exists: another git process is writing ${path}`);
    throw error;
  });
  await rename(lock, path);
}

/**
 * Locks `ref`, which must not exist yet, to be created pointing at `sha` by `commit()` (or left
 * alone by `release()`). Fails when the ref or its lock exists: another writer got there first.
 */
async function lockNewRef(
  git: string,
  ref: string,
  sha: string,
): Promise<{ commit(): Promise<void>; release(): Promise<void> }> {
  const path = join(git, ref);
  const lock = `${path}.lock`;
  await writeFile(lock, `${sha}\n`, { flag: "wx" }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "EEXIST") throw new Error(`cannot create ${ref}: ${lock} exists (another writer)`);
    throw error;
  });
  const release = () => rm(lock, { force: true });
  const current = await readFile(path, "utf8").catch(() => null);
  if (current !== null) {
    await release();
    throw new Error(`cannot create ${ref}: it exists already (at ${current.trim()})`);
  }
  return { commit: () => rename(lock, path), release };
}
