import type { WorkflowDetail, WorkflowPhase, WorkflowSummary } from "@foundry/contract";
import type { PhaseDefinition, WorkflowDefinition } from "@foundry/workflow";

// Workflow definitions as the API shows them (the contract's camelCase shapes, not the YAML's keys).

/** A workflow in a list: its phases by id, title and kind. */
export function workflowSummary(workflow: WorkflowDefinition): WorkflowSummary {
  return {
    name: workflow.name,
    description: workflow.description,
    phases: workflow.phases.map((phase) => ({ id: phase.id, title: phase.title, kind: phase.kind })),
  };
}

/** A workflow in full: roles with their providers, and each phase with what it runs. */
export function workflowDetail(workflow: WorkflowDefinition): WorkflowDetail {
  return {
    name: workflow.name,
    description: workflow.description,
    roles: Object.entries(workflow.roles).map(([id, role]) => ({
      id,
      title: role.title,
      system: role.system,
      providers: role.providers.map((choice) => ({ provider: choice.provider, model: choice.model })),
    })),
    phases: workflow.phases.map(phaseDetail),
  };
}

function phaseDetail(phase: PhaseDefinition): WorkflowPhase {
  const base = {
    id: phase.id,
    title: phase.title,
    needs: phase.needs,
    skipUnless: phase.skip_unless ?? null,
  };
  switch (phase.kind) {
    case "generate":
      return {
        ...base,
        kind: "generate",
        tasks: phase.tasks.map((task) => ({
          id: task.id,
          role: task.role,
          schema: task.schema,
          prompt: task.prompt,
          maxOutputTokens: task.max_output_tokens ?? null,
          temperature: task.temperature ?? null,
        })),
      };
    case "vote":
      return {
        ...base,
        kind: "vote",
        voters: phase.voters,
        items: phase.items,
        maxItems: phase.max_items,
        schema: phase.schema,
        prompt: phase.prompt,
      };
    case "files":
      return { ...base, kind: "files", sources: phase.sources };
    case "git":
      return { ...base, kind: "git" };
    default:
      return phase satisfies never;
  }
}
