import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const LOGGER = fileURLToPath(new URL("./logger.ts", import.meta.url));
const SHUTDOWN = fileURLToPath(new URL("./shutdown.ts", import.meta.url));

// A process whose log reader went away (its launcher was killed with -9) must not hang on its logs.
describe("the logger on a broken pipe", () => {
  it("ends the process like SIGTERM once nobody reads its stdout", async () => {
    const script = `
      import { createLogger } from ${JSON.stringify(LOGGER)};
      import { onShutdown } from ${JSON.stringify(SHUTDOWN)};
      const log = createLogger({ name: "t", level: "info" });
      onShutdown(async (reason) => { process.stderr.write("stopping: " + reason + "\\n"); }, { timeoutMs: 2000 });
      setInterval(() => log.info({ n: Math.random() }, "x".repeat(2000)), 5);
    `;
    const child = spawn(process.execPath, ["--input-type=module", "-e", script], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    await new Promise((resolve) => child.stdout.once("data", resolve));
    child.stdout.destroy();
    const code = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        resolve(-1);
      }, 10_000);
      child.once("exit", (exitCode) => {
        clearTimeout(timer);
        resolve(exitCode);
      });
    });
    expect(stderr).toContain("stopping: SIGTERM");
    expect(code).toBe(0);
  });
});
