import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { UnknownWorkflowError, WorkflowError } from "./errors.ts";
import { loadWorkflowFile, MAX_WORKFLOW_BYTES, parseWorkflow, WorkflowCatalog } from "./load.ts";

const workflowsDir = fileURLToPath(new URL("../../../workflows", import.meta.url));

const minimal = `
name: tiny
roles:
  manager:
    title: Manager
    system: Be brief.
    providers: [{ provider: openai, model: gpt-6-sol }]
phases:
  - id: requirements
    title: Requirements
    tasks:
      - id: requirements
        role: manager
        schema: requirements
        prompt: "Refine {{ request }}"
`;

function errorOf(text: string): WorkflowError {
  try {
    parseWorkflow(text, "tiny.yaml");
  } catch (error) {
    if (error instanceof WorkflowError) return error;
    throw error;
  }
  throw new Error("expected a WorkflowError");
}

describe("workflow files", () => {
  it("loads the shipped workflows", async () => {
    const catalog = await WorkflowCatalog.load(workflowsDir);
    const workflow = catalog.get("software-project");
    expect(workflow.phases.map((phase) => phase.id)).toEqual([
      "requirements",
      "planning",
      "comparison",
      "voting",
      "resolution",
      "implementation",
      "testing",
      "files",
      "git",
    ]);
    expect(() => catalog.get("nope")).toThrow(UnknownWorkflowError);
  });

  it("defaults a phase's kind to generate", () => {
    expect(parseWorkflow(minimal, "tiny.yaml").phases[0]?.kind).toBe("generate");
  });

  it("reports YAML syntax errors with the file and line", () => {
    const error = errorOf("name: tiny\nroles: [unclosed\n");
    expect(error.message).toMatch(/^tiny\.yaml: invalid workflow/);
    expect(error.issues[0]?.message).toMatch(/YAML syntax/);
    expect(error.issues[0]?.line).toBeGreaterThan(0);
  });

  it("names the path, line and expectation of a schema error", () => {
    const error = errorOf(minimal.replace("schema: requirements", "schema: requirementz"));
    expect(error.issues).toHaveLength(1);
    expect(error.issues[0]).toMatchObject({ path: "phases[0].tasks[0].schema", line: 14 });
    expect(error.message).toContain('unknown output schema "requirementz"');
    expect(error.message).toContain("tiny.yaml:14:17 phases[0].tasks[0].schema");
  });

  it("rejects unknown providers, roles and kinds", () => {
    expect(errorOf(minimal.replace("provider: openai", "provider: cohere")).message).toContain(
      'unknown provider "cohere"',
    );
    expect(errorOf(minimal.replace("role: manager", "role: boss")).message).toMatch(
      /phases\[0\]\.tasks\[0\]\.role: unknown role "boss"/,
    );
    expect(errorOf(minimal.replace("    tasks:", "    kind: dance\n    tasks:")).message).toContain(
      "unknown phase kind",
    );
  });

  it("rejects template variables that are not available", () => {
    const error = errorOf(minimal.replace("{{ request }}", "{{ planning.backend }}"));
    expect(error.issues[0]?.path).toBe("phases[0].tasks[0].prompt");
    expect(error.message).toContain('template variable "planning.backend" is not available here');
  });

  it("rejects needs on later or unknown phases", () => {
    const twoPhases = `${minimal}
  - id: planning
    title: Planning
    needs: [requirements, later]
    tasks:
      - id: backend
        role: manager
        schema: backend_plan
        prompt: "{{ requirements.nothing }}"
`;
    const error = errorOf(twoPhases);
    expect(error.issues.map((issue) => issue.path)).toEqual([
      "phases[1].needs[1]",
      "phases[1].tasks[0].prompt",
    ]);
    expect(error.message).toContain('unknown phase "later"');
    expect(error.message).toContain('phase "requirements" has no result "nothing"');
  });

  it("rejects a file whose name differs from its file name", async () => {
    const dir = await mkdtemp(join(tmpdir(), "workflows-"));
    try {
      await writeFile(join(dir, "other.yaml"), minimal);
      await expect(WorkflowCatalog.load(dir)).rejects.toThrow(
        /other\.yaml: invalid workflow\n.*name "tiny" must equal/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("turns a YAML alias bomb into a WorkflowError naming the file", () => {
    // Nine levels of nine aliases each: 387 million strings if expanded.
    const levels = ["a: &a [x, x, x, x, x, x, x, x, x]"];
    for (let level = 1; level < 9; level++) {
      const previous = String.fromCharCode(96 + level);
      const name = String.fromCharCode(97 + level);
      levels.push(`${name}: &${name} [${Array(9).fill(`*${previous}`).join(", ")}]`);
    }
    const error = errorOf(`${minimal}\n${levels.join("\n")}\n`);
    expect(error.file).toBe("tiny.yaml");
    expect(error.message).toMatch(/^tiny\.yaml: invalid workflow\n {2}tiny\.yaml \(root\): YAML aliases: /);
    expect(error.message).toContain("(at most 100 are expanded)");
    expect(error.cause).toBeInstanceOf(ReferenceError);
  });

  it("refuses an oversized document, and does not read an oversized file", async () => {
    const padding = `# ${"x".repeat(MAX_WORKFLOW_BYTES)}\n`;
    const error = errorOf(`${minimal}${padding}`);
    expect(error.message).toMatch(
      /^tiny\.yaml: invalid workflow\n {2}tiny\.yaml \(root\): the file is \d+ bytes; a workflow may be at most 262144$/,
    );

    const dir = await mkdtemp(join(tmpdir(), "workflows-"));
    try {
      const file = join(dir, "big.yaml");
      await writeFile(file, `${minimal}${padding}`);
      await expect(loadWorkflowFile(file)).rejects.toThrow(
        new RegExp(`^${file.replaceAll(".", "\\.")}: invalid workflow\n.*a workflow may be at most 262144$`),
      );
      await expect(WorkflowCatalog.load(dir)).rejects.toBeInstanceOf(WorkflowError);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
