// Workflow variants for tests, written to a temporary folder as a user would write them.
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseDocument } from "yaml";
import { WORKFLOWS_DIR } from "./stack.ts";

/**
 * A folder holding `software-project.yaml` changed by `edit` (which receives the parsed document as
 * plain data and returns it).
 */
export async function workflowVariant(edit: (workflow: Record<string, unknown>) => Record<string, unknown>) {
  const source = await readFile(join(WORKFLOWS_DIR, "software-project.yaml"), "utf8");
  const workflow = parseDocument(source).toJS() as Record<string, unknown>;
  const dir = await mkdtemp(join(tmpdir(), "foundry-workflows-"));
  await writeFile(join(dir, "software-project.yaml"), JSON.stringify(edit(workflow), null, 2));
  return dir;
}

/** Every role keeps only its first provider: no fallbacks. */
export function withoutFallbacks(workflow: Record<string, unknown>): Record<string, unknown> {
  const roles = workflow.roles as Record<string, { providers: unknown[] }>;
  for (const role of Object.values(roles)) role.providers = role.providers.slice(0, 1);
  return workflow;
}
