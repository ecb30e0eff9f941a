// Reads V8 CPU profiles (`node --cpu-prof`, *.cpuprofile) and sums their self time by package and
// by function, optionally over a window of time only (e.g. one benchmark run inside a process that
// lived longer).
import { readFile } from "node:fs/promises";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  /** Microseconds on the monotonic clock (CLOCK_MONOTONIC on Linux, as `process.hrtime`). */
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface SelfTime {
  name: string;
  /** Samples attributed to it. */
  samples: number;
  /** Share of the busy (non-idle) samples. */
  share: number;
}

export interface ProfileSummary {
  /** Samples in the window, idle included. */
  samples: number;
  /** Share of the window's samples where the process was idle (waiting on I/O). */
  idle: number;
  /** By the package of the sampled frame itself (a native frame: of its caller). */
  packages: SelfTime[];
  /**
   * By the nearest frame of an npm package or of this repository on the stack, so that Node's
   * own streams, sockets and bindings count for the package that used them (`pg`, `ioredis`, …).
   */
  owners: SelfTime[];
  functions: SelfTime[];
  /** False when the window did not overlap the profiles (then every sample was counted). */
  windowed: boolean;
}

/** Microseconds on the clock V8's profiler uses, for `window` below. */
export function profilerClockMicros(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

/**
 * Sums the self time of `files` by package (`node_modules/<package>`, `@foundry/<package>` for
 * this repository, `node:<module>` for Node's own JavaScript). A native frame with no script of
 * its own (a binding such as `spawn` or `writev`) is counted for the nearest caller that has one,
 * so that the time lands on the package that asked for it.
 */
export async function summarizeCpuProfiles(
  files: readonly string[],
  window?: { fromMicros: number; toMicros: number },
): Promise<ProfileSummary> {
  const byPackage = new Map<string, number>();
  const byOwner = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let total = 0;
  let idle = 0;
  let windowed = window !== undefined;
  const profiles = await Promise.all(
    files.map(async (file) => JSON.parse(await readFile(file, "utf8")) as CpuProfile),
  );
  if (window && !profiles.some((p) => p.startTime < window.toMicros && p.endTime > window.fromMicros)) {
    windowed = false;
  }
  for (const profile of profiles) {
    const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
    const parents = new Map<number, number>();
    for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id);
    const attribution = new Map<number, { pkg: string; fn: string }>();
    const owners = new Map<number, string>();
    const ownerOf = (id: number): string => {
      const known = owners.get(id);
      if (known) return known;
      const node = nodes.get(id) as ProfileNode;
      const pkg = packageOf(node.callFrame.url);
      const parent = parents.get(id);
      let owner: string;
      if (pkg && !pkg.startsWith("node:") && pkg !== "wasm") owner = pkg;
      else if (node.callFrame.functionName.startsWith("(") && !node.callFrame.url)
        owner = node.callFrame.functionName;
      else if (
        parent === undefined ||
        (nodes.get(parent) as ProfileNode).callFrame.functionName === "(root)"
      ) {
        owner = pkg ?? "(native)";
      } else owner = ownerOf(parent);
      owners.set(id, owner);
      return owner;
    };
    const attribute = (id: number) => {
      let found = attribution.get(id);
      if (found) return found;
      const node = nodes.get(id) as ProfileNode;
      const { functionName, url, lineNumber } = node.callFrame;
      let pkg = packageOf(url);
      if (!pkg) {
        if (functionName.startsWith("(")) pkg = functionName;
        else {
          let ancestor = parents.get(id);
          while (ancestor !== undefined && !packageOf((nodes.get(ancestor) as ProfileNode).callFrame.url)) {
            ancestor = parents.get(ancestor);
          }
          pkg =
            ancestor === undefined
              ? "(native)"
              : (packageOf((nodes.get(ancestor) as ProfileNode).callFrame.url) as string);
        }
      }
      const where = url ? `${url.split("/").slice(-2).join("/")}:${lineNumber + 1}` : "native";
      found = { pkg, fn: `${functionName || "(anonymous)"} (${pkg}, ${where})` };
      attribution.set(id, found);
      return found;
    };
    let time = profile.startTime;
    profile.samples.forEach((id, index) => {
      time += profile.timeDeltas[index] ?? 0;
      if (windowed && window && (time < window.fromMicros || time > window.toMicros)) return;
      total += 1;
      const { pkg, fn } = attribute(id);
      if (pkg === "(idle)") {
        idle += 1;
        return;
      }
      byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + 1);
      const owner = ownerOf(id);
      byOwner.set(owner, (byOwner.get(owner) ?? 0) + 1);
      byFunction.set(fn, (byFunction.get(fn) ?? 0) + 1);
    });
  }
  const busy = total - idle;
  const ranked = (counts: Map<string, number>) =>
    [...counts]
      .sort((a, b) => b[1] - a[1])
      .map(([name, samples]) => ({ name, samples, share: busy > 0 ? samples / busy : 0 }));
  return {
    samples: total,
    idle: total > 0 ? idle / total : 0,
    packages: ranked(byPackage),
    owners: ranked(byOwner),
    functions: ranked(byFunction),
    windowed,
  };
}

/** The package a script belongs to, or undefined for a frame with no script (native, V8). */
function packageOf(url: string): string | undefined {
  if (!url) return undefined;
  if (url.startsWith("wasm://")) return "wasm";
  if (url.startsWith("node:")) {
    const path = url
      .slice("node:".length)
      .replace(/^internal\//, "")
      .split("/");
    return path[0] === "deps" ? `node:deps/${path[1]}` : `node:${path[0]}`;
  }
  const modules = url.lastIndexOf("/node_modules/");
  if (modules >= 0) {
    const parts = url.slice(modules + "/node_modules/".length).split("/");
    return parts[0]?.startsWith("@") ? `${parts[0]}/${parts[1]}` : parts[0];
  }
  if (url.includes("/packages/db/src/generated/")) return "@foundry/db (Prisma's generated client)";
  const own = /\/(packages|apps)\/([^/]+)\//.exec(url);
  if (own) return own[1] === "packages" ? `@foundry/${own[2]}` : `apps/${own[2]}`;
  return url.split("/").slice(-2).join("/");
}
