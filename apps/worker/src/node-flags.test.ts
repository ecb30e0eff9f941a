import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { WORKER_ENV, WORKER_NODE_FLAGS } from "./node-flags.ts";

// docker-compose.yml cannot import the flags, so this holds it to them.
describe("WORKER_NODE_FLAGS and WORKER_ENV", () => {
  it("are how each worker service of docker-compose.yml starts node", async () => {
    const compose = parse(await readFile(new URL("../../../docker-compose.yml", import.meta.url), "utf8"), {
      merge: true,
    }) as {
      services: Record<string, { command?: string[]; environment?: Record<string, string | null> }>;
    };
    const workers = Object.entries(compose.services).filter(([name]) => name.startsWith("worker-"));
    expect(workers.map(([name]) => name).sort()).toEqual([
      "worker-anthropic",
      "worker-gemini",
      "worker-openai",
      "worker-orchestrator",
    ]);
    for (const [, service] of workers) {
      expect(service.command?.slice(0, WORKER_NODE_FLAGS.length + 2)).toEqual([
        "node",
        ...WORKER_NODE_FLAGS,
        "apps/worker/src/main.ts",
      ]);
      expect(service.environment).toMatchObject(WORKER_ENV);
    }
  });

  it("are flags node accepts", async () => {
    const { execFileSync } = await import("node:child_process");
    const out = execFileSync(process.execPath, [...WORKER_NODE_FLAGS, "-e", "process.stdout.write('ok')"], {
      env: { ...process.env, ...WORKER_ENV },
    });
    expect(out.toString()).toBe("ok");
  });
});
