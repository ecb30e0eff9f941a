import { execFileSync } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, startStack } from "./support/stack.ts";

describe("a session end to end (API → flow → provider queues → simulator → Postgres → git)", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(() => stack?.close());

  it("runs every phase, journals every call and commits the project", async () => {
    const id = await stack.submit("Build a todo list app");
    const session = await stack.waitForSession(id);
    expect(session.error).toBeNull();
    expect(session.status).toBe("succeeded");

    expect(session.phases.map((phase) => [phase.id, phase.status])).toEqual([
      ["requirements", "succeeded"],
      ["planning", "succeeded"],
      ["comparison", "succeeded"],
      ["voting", "succeeded"],
      ["resolution", "succeeded"],
      ["implementation", "succeeded"],
      ["testing", "succeeded"],
      ["files", "succeeded"],
      ["git", "succeeded"],
    ]);

    // Each phase job ran once, but the first, which queued its calls and ran again to gather them:
    // every later phase that makes calls was started, and its calls queued, by the job before it.
    const orchestrator = stack.queues.get("orchestrator");
    const activations = await Promise.all(
      session.phases.map(async (phase) => [
        phase.id,
        (await orchestrator.getJob(`${id}.0.${phase.id}`))?.attemptsStarted,
      ]),
    );
    expect(activations).toEqual([
      ["requirements", 2],
      ...session.phases.slice(1).map((phase) => [phase.id, 1]),
    ]);

    // Every model call is in Postgres with tokens and cost, and the simulator served exactly those.
    const served = stack.sim.requests().filter((request) => request.status === 200);
    expect(session.calls.length).toBe(served.length);
    expect(session.calls.every((call) => call.status === "succeeded" && call.attempts === 1)).toBe(true);
    expect(session.calls.every((call) => call.inputTokens > 0 && call.outputTokens > 0)).toBe(true);
    expect(session.calls.every((call) => call.worker?.host === "test-host")).toBe(true);
    const byProvider = (provider: string) =>
      session.calls.filter((call) => call.provider === provider).length;
    const votes = session.state.votes as unknown[];
    // requirements, comparison, resolution, tests + one vote per disagreement (openai)
    expect(byProvider("openai")).toBe(4 + votes.length / 3);
    expect(byProvider("anthropic")).toBe(2 + votes.length / 3);
    expect(byProvider("gemini")).toBe(2 + votes.length / 3);
    expect(session.totals.costUsd).toBeGreaterThan(0);
    expect(session.totals.inputTokens).toBe(session.calls.reduce((sum, call) => sum + call.inputTokens, 0));

    // What went over the wire: the requirements call carries the request and its schema name.
    const requirements = stack.sim.requests({ schemaName: "requirements" });
    expect(requirements).toHaveLength(1);
    expect(JSON.stringify(requirements[0]?.body)).toContain("Build a todo list app");

    // The seed's workflow state.
    expect(session.state.refinedRequirements).toMatchObject({ title: expect.any(String) });
    expect(session.state.backendPlan).toMatchObject({ apiContract: expect.any(Array) });
    expect(session.state.frontendPlan).toMatchObject({ components: expect.any(Array) });
    expect((session.state.disagreements as unknown[]).length).toBeGreaterThan(0);
    expect(session.state.finalDecision).toMatchObject({ finalDecision: expect.any(String) });

    // The files are in Postgres and committed in the workspace repository.
    expect(session.workspace).toBe(join(stack.workspaceDir, id));
    const paths = session.files.map((file) => file.path);
    expect(paths).toContain("README.md");
    expect(paths).toContain("package.json");
    const workspace = session.workspace as string;
    const log = execFileSync("git", ["log", "--format=%s%n%b"], { cwd: workspace, encoding: "utf8" });
    expect(log).toContain(`Foundry-Session: ${id}`);
    expect(log).toContain("Foundry-Phase: implementation");
    expect(log).toContain("Foundry-Phase: testing");
    expect(execFileSync("git", ["status", "--porcelain"], { cwd: workspace, encoding: "utf8" })).toBe("");
    const tracked = execFileSync("git", ["ls-files"], { cwd: workspace, encoding: "utf8" })
      .trim()
      .split("\n")
      .sort();
    expect(tracked).toEqual([...paths].sort());
    const readme = await readFile(join(workspace, "README.md"), "utf8");
    expect(readme).toContain("Build a todo list app");
  });
});
