import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, test } from "vitest";

// The command as an operator runs it: `node packages/simulator/src/main.ts`.

const MAIN = fileURLToPath(new URL("./main.ts", import.meta.url));
const children: ChildProcess[] = [];

function start(env: Record<string, string>) {
  const child = spawn(process.execPath, [MAIN], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr!.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return { child, stdout: () => stdout, stderr: () => stderr };
}

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill("SIGKILL");
});

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  if (!condition()) throw new Error("timed out");
}

describe("main.ts", () => {
  test("prints only the KEY=value lines of env() on stdout, serves, and stops on SIGTERM", async () => {
    const sim = start({ SIM_PORT: "0", SIM_LIMITS: "openai=1/60s", SIM_SCENARIO: "agree" });
    await until(() => sim.stdout().split("\n").length > 6);
    const lines = sim.stdout().trim().split("\n");
    expect(lines.map((line) => line.split("=")[0])).toEqual([
      "OPENAI_BASE_URL",
      "OPENAI_API_KEY",
      "ANTHROPIC_BASE_URL",
      "ANTHROPIC_API_KEY",
      "GEMINI_BASE_URL",
      "GEMINI_API_KEY",
    ]);
    const env = Object.fromEntries(lines.map((line) => line.split(/=(.*)/s).slice(0, 2) as [string, string]));
    expect(env.OPENAI_BASE_URL).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/openai\/v1$/);
    const base = env.OPENAI_BASE_URL!.replace(/\/openai\/v1$/, "");
    expect(await (await fetch(`${base}/_sim/health`)).json()).toEqual({ status: "ok" });
    expect(await (await fetch(`${base}/_sim/config`)).json()).toMatchObject({
      limits: { openai: { max: 1, windowMs: 60_000 } },
      scenario: { planComparison: "agree" },
    });
    expect(sim.stderr()).toContain("listening");

    sim.child.kill("SIGTERM");
    const [code] = await once(sim.child, "exit");
    expect(code).toBe(0);
  });

  test.each([
    ["SIM_LIMITS", "openai=lots"],
    ["SIM_LATENCY_MS", "slow"],
    ["SIM_SCENARIO", "chaos"],
    ["SIM_PORT", "-5"],
  ])("a bad %s exits 1 naming the variable", async (name, value) => {
    const sim = start({ SIM_PORT: "0", [name]: value });
    const [code] = await once(sim.child, "exit");
    expect(code).toBe(1);
    expect(sim.stderr()).toContain(name);
    expect(sim.stdout()).toBe("");
  });
});
