// Sessions for the store's tests: the seed workflow, and a session inserted as POST /api/sessions
// inserts it (its phase rows pending, its first event).
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import type { PrismaClient } from "@foundry/db";
import { insertSession } from "@foundry/store";
import { loadWorkflowFile, type WorkflowDefinition } from "@foundry/workflow";

const SEED_WORKFLOW = fileURLToPath(new URL("../../workflows/software-project.yaml", import.meta.url));

/** `workflows/software-project.yaml`, parsed. */
export function loadSeedWorkflow(): Promise<WorkflowDefinition> {
  return loadWorkflowFile(SEED_WORKFLOW);
}

/** Inserts a new session asking for "a todo app" with `workflow`; returns its id. */
export async function insertTestSession(prisma: PrismaClient, workflow: WorkflowDefinition): Promise<string> {
  const id = randomUUID();
  await insertSession(prisma, {
    id,
    request: "a todo app",
    workflowName: workflow.name,
    workflow,
    publish: false,
    repoName: null,
  });
  return id;
}
