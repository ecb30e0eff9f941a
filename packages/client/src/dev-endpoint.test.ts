import { spawn } from "node:child_process";
import { mkdir, mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { findDevEndpoint, removeDevEndpoint, writeDevEndpoint } from "./dev-endpoint.ts";

const endpoint = (pid: number) => ({
  url: "http://127.0.0.1:4321",
  token: "secret-token",
  pid,
  startedAt: "2026-01-01T00:00:00.000Z",
});

async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ["-e", "0"], { stdio: "ignore" });
  await new Promise((resolve) => child.on("close", resolve));
  return child.pid as number;
}

describe("the npm run dev discovery file", () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), "foundry-dev-endpoint-"));
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  it("is written with mode 0600 and found from a subdirectory", async () => {
    const file = await writeDevEndpoint(join(root, ".data"), endpoint(process.pid));
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const deep = join(root, "a", "b");
    await mkdir(deep, { recursive: true });
    expect(await findDevEndpoint(deep)).toEqual({
      kind: "found",
      file,
      endpoint: endpoint(process.pid),
      ignored: [],
    });
  });

  it("passes over a file whose process died, or that is not one, and goes on looking", async () => {
    const pid = await deadPid();
    await writeDevEndpoint(join(root, ".data"), endpoint(process.pid));
    const inner = join(root, "inner");
    await writeDevEndpoint(join(inner, ".data"), endpoint(pid));
    const broken = join(inner, "broken");
    await mkdir(join(broken, ".data"), { recursive: true });
    await writeFile(join(broken, ".data", "dev.json"), "{ not json");
    const found = await findDevEndpoint(broken);
    expect(found).toMatchObject({ kind: "found", file: join(root, ".data", "dev.json") });
    expect(found.ignored).toEqual([
      { file: join(broken, ".data", "dev.json"), reason: "is not JSON" },
      {
        file: join(inner, ".data", "dev.json"),
        reason: `left behind by npm run dev (pid ${pid}), which is no longer running`,
      },
    ]);
  });

  it("looks in the extra places after the parents, and says where it looked", async () => {
    const elsewhere = join(root, "checkout");
    await writeDevEndpoint(join(elsewhere, ".data"), endpoint(process.pid));
    const empty = join(root, "empty");
    await mkdir(empty);
    expect(await findDevEndpoint(empty, [elsewhere])).toMatchObject({ kind: "found" });
    const none = await findDevEndpoint(empty, [join(root, "nowhere")]);
    expect(none.kind).toBe("none");
    expect(none.kind === "none" && none.looked.at(0)).toBe(join(empty, ".data", "dev.json"));
    expect(none.kind === "none" && none.looked.at(-1)).toBe(join(root, "nowhere", ".data", "dev.json"));
  });

  it("is removed only by the process that wrote it", async () => {
    const file = await writeDevEndpoint(join(root, ".data"), endpoint(process.pid));
    await removeDevEndpoint(join(root, ".data"), process.pid + 1);
    expect((await stat(file)).isFile()).toBe(true);
    await removeDevEndpoint(join(root, ".data"), process.pid);
    await expect(stat(file)).rejects.toThrow(/ENOENT/);
    // Already gone: nothing to do, no error.
    await removeDevEndpoint(join(root, ".data"), process.pid);
  });
});
