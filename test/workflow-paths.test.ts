import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { promisify } from "node:util";
import { extract } from "tar";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, startStack } from "./support/stack.ts";

const run = promisify(execFile);

describe("plans that disagree: vote, resolve, implement", () => {
  let stack: Stack;
  let id: string;
  beforeAll(async () => {
    stack = await startStack({ simulator: { scenario: { planComparison: "conflicts" } } });
    id = await stack.submit("Build a todo list app");
  });
  afterAll(() => stack?.close());

  it("stores every agent's vote on every disagreement and the manager's decision", async () => {
    const session = await stack.waitForSession(id);
    expect(session.status).toBe("succeeded");
    const disagreements = session.state.disagreements as Array<{ id: string; topic: string }>;
    expect(disagreements.length).toBeGreaterThan(0);

    const votes = await stack.db.prisma.vote.findMany({
      where: { sessionId: id },
      orderBy: [{ disagreementId: "asc" }, { voter: "asc" }],
    });
    expect(votes).toHaveLength(disagreements.length * 3);
    for (const disagreement of disagreements) {
      const cast = votes.filter((vote) => vote.disagreementId === disagreement.id);
      expect(cast.map((vote) => vote.voter)).toEqual(["backend", "frontend", "manager"]);
      expect(cast.map((vote) => vote.provider).sort()).toEqual(["anthropic", "gemini", "openai"]);
      expect(cast.every((vote) => vote.topic === disagreement.topic && vote.rationale.length > 0)).toBe(true);
    }
    const voting = await stack.db.prisma.phaseRun.findUniqueOrThrow({
      where: { sessionId_phase: { sessionId: id, phase: "voting" } },
    });
    const tally = (
      voting.output as { tally: Array<{ disagreementId: string; backend: number; frontend: number }> }
    ).tally;
    expect(tally.map((row) => row.disagreementId)).toEqual(disagreements.map((d) => d.id));
    expect(tally.every((row) => row.backend + row.frontend === 3)).toBe(true);

    const decision = session.state.finalDecision as {
      decisions: Array<{ disagreementId: string }>;
      finalDecision: string;
    };
    expect(decision.decisions.map((d) => d.disagreementId).sort()).toEqual(
      disagreements.map((d) => d.id).sort(),
    );
    // Both implementations were asked to follow the decision.
    for (const schemaName of ["backend_implementation", "frontend_implementation"]) {
      const [request] = stack.sim.requests({ schemaName });
      expect(JSON.stringify(request?.body)).toContain(JSON.stringify(decision.finalDecision).slice(1, 60));
    }
    // The votes' prompts carried one disagreement each.
    expect(stack.sim.requests({ schemaName: "vote" })).toHaveLength(disagreements.length * 3);

    const readme = await readFile(join(session.workspace as string, "README.md"), "utf8");
    expect(readme).toContain("## Decisions");
    expect(readme).toContain(`### ${disagreements[0]?.id}: ${disagreements[0]?.topic}`);
    expect(readme).toMatch(/Votes: backend \d, frontend \d/);
  });

  it("produces a project whose own tests pass", async () => {
    const session = await stack.waitForSession(id);
    const workspace = session.workspace as string;
    const { stdout } = await run("npm", ["test"], { cwd: workspace, timeout: 60_000 });
    expect(stdout).toMatch(/\bfail 0\b/);
    expect(stdout).toMatch(/\bpass [1-9]\d*\b/);
  });

  it("serves the project as a tar.gz with its git history", async () => {
    const response = await stack.request(`/api/sessions/${id}/archive`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/gzip");
    expect(response.headers.get("content-disposition")).toMatch(
      /attachment; filename="foundry-[0-9a-f]{8}\.tar\.gz"/,
    );
    const dir = await mkdtemp(join(tmpdir(), "archive-"));
    try {
      await pipeline(Readable.fromWeb(response.body as never), extract({ cwd: dir }));
      const folder = join(dir, `foundry-${id.slice(0, 8)}`);
      expect(await readFile(join(folder, "README.md"), "utf8")).toContain("Build a todo list app");
      const { stdout } = await run("git", ["log", "--oneline"], { cwd: folder });
      expect(stdout.trim().split("\n").length).toBeGreaterThanOrEqual(3);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("plans that agree: no vote", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ simulator: { scenario: { planComparison: "agree" } } });
  });
  afterAll(() => stack?.close());

  it("skips voting and resolution, records why, and implements without a decision", async () => {
    const id = await stack.submit("Build a todo list app");
    const session = await stack.waitForSession(id);
    expect(session.status).toBe("succeeded");
    expect(session.state.disagreements).toEqual([]);
    const skipped = session.phases.filter((phase) => phase.status === "skipped");
    expect(skipped.map((phase) => [phase.id, phase.skipReason])).toEqual([
      ["voting", "comparison.comparison.disagreements is empty"],
      ["resolution", "comparison.comparison.disagreements is empty"],
    ]);
    expect(session.phases.filter((phase) => phase.status === "succeeded")).toHaveLength(7);
    expect(stack.sim.requests({ schemaName: "vote" })).toHaveLength(0);
    expect(stack.sim.requests({ schemaName: "resolution" })).toHaveLength(0);
    expect(await stack.db.prisma.vote.count({ where: { sessionId: id } })).toBe(0);
    const events = await stack.db.prisma.sessionEvent.findMany({
      where: { sessionId: id, type: "phase.skipped" },
    });
    expect(events.map((event) => event.phase)).toEqual(["voting", "resolution"]);
    const [backend] = stack.sim.requests({ schemaName: "backend_implementation" });
    expect(JSON.stringify(backend?.body)).toContain("Final decision:\\n(none)");
    const readme = await readFile(join(session.workspace as string, "README.md"), "utf8");
    expect(readme).toContain("The plans agreed: there was nothing to vote on.");
  });
});
