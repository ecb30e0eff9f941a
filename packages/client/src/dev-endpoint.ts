// The file through which `npm run dev` tells clients on the same machine where its API listens and
// with which token: `.data/dev.json` in the checkout, readable by its owner only. Written by
// apps/dev, read by the CLI; both go through these functions so that they agree on its shape.
import { randomBytes } from "node:crypto";
import { chmod, mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { z } from "zod";

/** Where the file lives, relative to a checkout's root. */
const DEV_ENDPOINT_FILE = join(".data", "dev.json");

const devEndpointSchema = z.object({
  url: z.url({ protocol: /^https?$/ }),
  token: z.string().min(1),
  pid: z.int().positive(),
  startedAt: z.string(),
});

/** What `npm run dev` writes: its API's address and token, and its own process id. */
export type DevEndpoint = z.infer<typeof devEndpointSchema>;

/**
 * Writes `<dataDir>/dev.json` with mode 0600 (the token is in it), atomically: a reader sees the
 * old file or the new one, never half of one.
 */
export async function writeDevEndpoint(dataDir: string, endpoint: DevEndpoint): Promise<string> {
  const file = join(dataDir, "dev.json");
  await mkdir(dataDir, { recursive: true });
  const partial = `${file}.${randomBytes(4).toString("hex")}.tmp`;
  try {
    // The mode applies at creation; chmod again in case a umask or ACL widened nothing it should not.
    await writeFile(partial, `${JSON.stringify(endpoint, null, 2)}\n`, { mode: 0o600, flag: "wx" });
    await chmod(partial, 0o600);
    await rename(partial, file);
  } catch (error) {
    await rm(partial, { force: true });
    throw error;
  }
  return file;
}

/**
 * Removes `<dataDir>/dev.json` if it is the one process `pid` wrote (a second `npm run dev` in the
 * same checkout may have replaced it). Never throws.
 */
export async function removeDevEndpoint(dataDir: string, pid: number): Promise<void> {
  const file = join(dataDir, "dev.json");
  const found = await readEndpointFile(file);
  if (found.kind === "found" && found.endpoint.pid !== pid) return;
  await rm(file, { force: true }).catch(() => {});
}

/** What the search found. */
export type DevEndpointSearch =
  /** A file whose process is alive. */
  | { kind: "found"; file: string; endpoint: DevEndpoint; ignored: IgnoredDevEndpoint[] }
  /** No usable file. */
  | { kind: "none"; looked: string[]; ignored: IgnoredDevEndpoint[] };

/** A file passed over on the way, and why (left by a process that died, unreadable). */
export interface IgnoredDevEndpoint {
  file: string;
  reason: string;
}

/**
 * Looks for `.data/dev.json` in `from` and each of its parents, then in each of `also` (e.g. the
 * checkout a program runs from). The first file whose process is alive wins; a file left behind
 * by a process that died (or one that cannot be read) is passed over and reported.
 */
export async function findDevEndpoint(from: string, also: string[] = []): Promise<DevEndpointSearch> {
  const roots: string[] = [];
  for (let dir = resolve(from); ; dir = dirname(dir)) {
    roots.push(dir);
    if (dirname(dir) === dir) break;
  }
  for (const extra of also) if (!roots.includes(resolve(extra))) roots.push(resolve(extra));

  const looked: string[] = [];
  const ignored: IgnoredDevEndpoint[] = [];
  for (const root of roots) {
    const file = join(root, DEV_ENDPOINT_FILE);
    looked.push(file);
    const read = await readEndpointFile(file);
    if (read.kind === "absent") continue;
    if (read.kind === "unreadable") {
      ignored.push({ file, reason: read.reason });
      continue;
    }
    if (!isAlive(read.endpoint.pid)) {
      ignored.push({
        file,
        reason: `left behind by npm run dev (pid ${read.endpoint.pid}), which is no longer running`,
      });
      continue;
    }
    return { kind: "found", file, endpoint: read.endpoint, ignored };
  }
  return { kind: "none", looked, ignored };
}

type ReadResult =
  | { kind: "absent" }
  | { kind: "unreadable"; reason: string }
  | { kind: "found"; endpoint: DevEndpoint };

async function readEndpointFile(file: string): Promise<ReadResult> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return { kind: "absent" };
    return { kind: "unreadable", reason: `cannot be read (${code ?? "error"})` };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { kind: "unreadable", reason: "is not JSON" };
  }
  const parsed = devEndpointSchema.safeParse(json);
  if (!parsed.success) return { kind: "unreadable", reason: "is not what npm run dev writes" };
  return { kind: "found", endpoint: parsed.data };
}

/** Whether a process with this id exists (signal 0 checks without sending anything). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
