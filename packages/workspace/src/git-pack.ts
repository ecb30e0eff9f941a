import { createHash, randomUUID } from "node:crypto";
import { mkdir, open, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { crc32, deflate } from "node:zlib";

const deflateAsync = promisify(deflate);

/**
 * Objects up to this size (nearly all of a generated project's) are stored in their zlib streams
 * without compression, as git does with `core.compression=0`: one stored deflate block and its
 * Adler-32, written here (storedZlib). Each zlib stream Node opens allocates a block that workers,
 * started with `MALLOC_MMAP_THRESHOLD_=65536` (WORKER_ENV), map and unmap every time: a 100-byte
 * deflate took 170–190 µs of CPU that way against 9 µs without the setting, and deflating a
 * generated project's 30 objects (210 kB) 3–8 ms against 0.8 ms stored. The pack of such a project
 * is about four times larger (210 kB against 54 kB). Larger objects are still deflated, on the thread
 * pool with zlib's defaults: there the size matters, and the stream's cost does not.
 */
const SMALL_OBJECT_BYTES = 65_535;

// A new repository's first commits, written by this process instead of by git: the blobs, trees and
// commits as one pack (with its index, both flushed to disk), then the index file and
// `refs/heads/main`, each through a lock file and a rename as git does it. These are git's documented formats (gitformat-pack,
// gitformat-index), version 2 of each, with SHA-1 object names. The commits are byte for byte what
// `git fast-import` makes of the same input, and git.test.ts holds them to what `git commit` makes.
//
// Why not git: the whole history of a new workspace is a few kilobytes, and starting git processes
// from a large Node process cost more than everything else in the git phase (three git processes
// and a shell, 50–60 ms for 12 files, against about 16 ms here, most of it flushing the pack to
// disk as git does). isomorphic-git was measured too: its pure JavaScript SHA-1 and deflate made it
// no faster than the processes (about 60 ms).

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

const MAIN = "refs/heads/main";

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
  const signature = `Foundry <foundry@localhost> ${now} +0000`;
  let parent: string | null = null;
  for (const commit of commits) {
    for (const file of commit.files) {
      const sha = add("blob", Buffer.from(file.content, "utf8"));
      place(top, file.path, sha);
      tracked.set(file.path, sha);
    }
    const tree = writeTree(top, add).toString("hex");
    const header: string = `tree ${tree}\n${parent ? `parent ${parent}\n` : ""}author ${signature}\ncommitter ${signature}\n\n`;
    parent = add("commit", Buffer.from(header + commit.message, "utf8")).toString("hex");
    shas.push(parent);
  }
  const head = shas.at(-1);
  if (head === undefined) return shas;

  const git = join(root, ".git");
  // A second writer that finds main made already (a duplicate delivery of the phase) writes nothing.
  await refuseIfExists(join(git, MAIN), MAIN);
  // The pack (durably) before main points into it. A writer that loses the race for main below
  // leaves it unreferenced, which is harmless (`git gc` removes it).
  const { pack, index, name } = await packOf([...objects.values()]);
  const packs = join(git, "objects", "pack");
  await mkdir(packs, { recursive: true });
  // The pack before its index: a reader finds packs by their index, and then the pack is whole.
  await writeDurably(join(packs, `pack-${name}.pack`), pack);
  await writeDurably(join(packs, `pack-${name}.idx`), index);
  // The index under main's lock: once main is there, so is an index that matches it (a retry
  // that finds the commits made has nothing left to write).
  const ref = await lockNewRef(git, MAIN, head);
  try {
    await writeLocked(join(git, "index"), indexOf(tracked));
  } catch (error) {
    await ref.release();
    throw error;
  }
  await ref.commit();
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

/**
 * `body` (at most 65,535 bytes) as a zlib stream (RFC 1950) of one stored deflate block (RFC 1951,
 * 3.2.4): what zlib writes at level 0.
 */
export function storedZlib(body: Uint8Array): Buffer {
  if (body.length > 0xffff)
    throw new RangeError(`a stored block holds at most 65,535 bytes, not ${body.length}`);
  const stream = Buffer.allocUnsafe(2 + 5 + body.length + 4);
  // CMF: deflate with a 32 KiB window; FLG: no dictionary, the fastest level, and the check bits
  // that make CMF·256 + FLG a multiple of 31.
  stream[0] = 0x78;
  stream[1] = 0x01;
  // BFINAL 1, BTYPE 00 (stored), then LEN and its one's complement, little-endian.
  stream[2] = 0x01;
  stream.writeUInt16LE(body.length, 3);
  stream.writeUInt16LE(body.length ^ 0xffff, 5);
  stream.set(body, 7);
  stream.writeUInt32BE(adler32(body), 7 + body.length);
  return stream;
}

/** The Adler-32 checksum of `bytes` (RFC 1950, 9), reduced every 5,552 bytes as zlib does. */
function adler32(bytes: Uint8Array): number {
  let a = 1;
  let b = 0;
  for (let start = 0; start < bytes.length; start += 5552) {
    const end = Math.min(start + 5552, bytes.length);
    for (let index = start; index < end; index++) {
      a += bytes[index] as number;
      b += a;
    }
    a %= 65521;
    b %= 65521;
  }
  return b * 65536 + a;
}

function uint32(value: number): Buffer {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(value);
  return bytes;
}

/**
 * A version 2 pack of `objects`, undeltified, its version 2 index, and its name (the pack's
 * checksum). Large objects are compressed on libuv's thread pool (a generated project may hold
 * 20 MiB), small ones stored (SMALL_OBJECT_BYTES).
 */
async function packOf(objects: readonly GitObject[]): Promise<{ pack: Buffer; index: Buffer; name: string }> {
  const parts: Buffer[] = [Buffer.from("PACK"), uint32(2), uint32(objects.length)];
  const compressed = await Promise.all(
    objects.map((object) =>
      object.body.length <= SMALL_OBJECT_BYTES ? storedZlib(object.body) : deflateAsync(object.body),
    ),
  );
  let offset = 12;
  const entries = objects.map((object, position) => {
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
    const packed = Buffer.concat([Buffer.from(head), compressed[position] as Buffer]);
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
 * A version 2 index of `files` with no stat data, entry for entry as `git read-tree` leaves it (without
 * its cache-tree extension, which is optional): git compares their content on its next look
 * (`git status`) and finds them unchanged.
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

/**
 * Writes a file whole or not at all, and on disk before it appears (as git does for packs): a
 * temporary file, flushed, then a rename. Read-only, as git leaves packs.
 */
async function writeDurably(path: string, bytes: Buffer): Promise<void> {
  const temporary = `${path}.${randomUUID()}.tmp`;
  try {
    const file = await open(temporary, "wx", 0o444);
    try {
      await file.writeFile(bytes);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

/**
 * A lock file older than this was left by a writer that died holding it (SIGKILL, a crash, a lost
 * machine): this module holds its locks for milliseconds. Git never removes a stale lock by itself;
 * here it would fail every later run of the phase, so it is taken over.
 */
export const STALE_LOCK_MS = 60_000;

/**
 * Creates `lock` holding `content`, failing with `what` when it exists (someone else holds it),
 * unless it is stale (see STALE_LOCK_MS). A lock this call created and could not fill is removed, so
 * that it cannot block the next attempt.
 */
async function createLock(lock: string, content: Buffer | string, what: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await writeFile(lock, content, { flag: "wx" });
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") {
        await rm(lock, { force: true });
        throw error;
      }
      const held = await stat(lock).catch(() => null);
      if (attempt > 0 || (held && Date.now() - held.mtimeMs < STALE_LOCK_MS)) {
        throw new Error(`${what}: ${lock} exists (another writer)`);
      }
      // Stale (or gone meanwhile): taken over, once.
      await rm(lock, { force: true });
    }
  }
}

/** Writes `path` through `path.lock` as git does, failing when someone else holds the lock. */
async function writeLocked(path: string, bytes: Buffer): Promise<void> {
  const lock = `${path}.lock`;
  await createLock(lock, bytes, `cannot write ${path}`);
  await rename(lock, path).catch(async (error: unknown) => {
    await rm(lock, { force: true });
    throw error;
  });
}

/** Fails naming `ref` when the file at `path` exists; any other error than its absence is thrown. */
async function refuseIfExists(path: string, ref: string): Promise<void> {
  const current = await readFile(path, "utf8").catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return null;
    throw error;
  });
  if (current !== null) throw new Error(`cannot create ${ref}: it exists already (at ${current.trim()})`);
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
  await createLock(lock, `${sha}\n`, `cannot create ${ref}`);
  const release = () => rm(lock, { force: true });
  try {
    await refuseIfExists(path, ref);
  } catch (error) {
    await release();
    throw error;
  }
  return { commit: () => rename(lock, path), release };
}
