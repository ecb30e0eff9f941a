import type { PhaseDefinition, WorkflowDefinition } from "./definition.ts";
import type { WorkflowIssue } from "./errors.ts";
import type { OUTPUT_SCHEMAS, OutputSchemaName } from "./output-schemas.ts";
import { templateReferences } from "./template.ts";

/** What a phase of each kind exposes to later phases' templates, besides generate phases' task ids. */
const PHASE_RESULT_KEYS: Record<Exclude<PhaseDefinition["kind"], "generate">, readonly string[]> = {
  vote: ["votes", "tally"],
  files: ["files"],
  git: ["commits", "repository", "workspace"],
};

/** Variables a vote phase's prompt has besides earlier phases: the item voted on and the voter. */
const VOTE_VARIABLES = ["item", "voter"] as const;

const SCHEMAS_WITH_FILES: ReadonlySet<OutputSchemaName> = new Set([
  "backend_implementation",
  "frontend_implementation",
  "test_suite",
]);

/**
 * Cross-reference checks a schema cannot express: unique ids, known roles, phases that read only
 * earlier phases they declare in `needs`, template variables that exist, file sources that produce
 * files. Returns every problem found, each with its path in the document.
 */
export function validateWorkflow(workflow: WorkflowDefinition): WorkflowIssue[] {
  const issues: WorkflowIssue[] = [];
  const report = (path: string, message: string) => issues.push({ path, message });
  const roles = new Set(Object.keys(workflow.roles));
  const seen = new Map<string, PhaseDefinition>();

  workflow.phases.forEach((phase, index) => {
    const at = `phases[${index}]`;
    if (seen.has(phase.id)) report(`${at}.id`, `duplicate phase id "${phase.id}"`);
    if (phase.id === "request" || phase.id === "item" || phase.id === "voter") {
      report(`${at}.id`, `"${phase.id}" is reserved for template variables`);
    }

    phase.needs.forEach((need, needIndex) => {
      if (!seen.has(need)) {
        const later = workflow.phases.some((other) => other.id === need);
        report(
          `${at}.needs[${needIndex}]`,
          later
            ? `phase "${need}" comes later in the file (a phase can only need earlier phases)`
            : `unknown phase "${need}"`,
        );
      }
    });
    const readable = ancestors(phase, seen);
    const checkReference = (path: string, reference: string, extra: readonly string[] = []) => {
      const problem = referenceProblem(reference, readable, extra);
      if (problem) report(path, problem);
    };

    if (phase.skip_unless) checkReference(`${at}.skip_unless`, phase.skip_unless);

    switch (phase.kind) {
      case "generate": {
        const taskIds = new Set<string>();
        phase.tasks.forEach((task, taskIndex) => {
          const taskAt = `${at}.tasks[${taskIndex}]`;
          if (taskIds.has(task.id))
            report(`${taskAt}.id`, `duplicate task id "${task.id}" in phase "${phase.id}"`);
          taskIds.add(task.id);
          if (!roles.has(task.role)) report(`${taskAt}.role`, unknownRole(task.role, roles));
          for (const reference of templateReferences(task.prompt))
            checkReference(`${taskAt}.prompt`, reference);
        });
        break;
      }
      case "vote": {
        phase.voters.forEach((voter, voterIndex) => {
          if (!roles.has(voter)) report(`${at}.voters[${voterIndex}]`, unknownRole(voter, roles));
        });
        if (phase.schema !== "vote") report(`${at}.schema`, `a vote phase must use the "vote" schema`);
        checkReference(`${at}.items`, phase.items);
        for (const reference of templateReferences(phase.prompt)) {
          checkReference(`${at}.prompt`, reference, VOTE_VARIABLES);
        }
        break;
      }
      case "files": {
        phase.sources.forEach((source, sourceIndex) => {
          const [phaseId, taskId] = source.split(".") as [string, string];
          const sourcePhase = readable.get(phaseId);
          const task =
            sourcePhase?.kind === "generate"
              ? sourcePhase.tasks.find((candidate) => candidate.id === taskId)
              : undefined;
          if (!sourcePhase) {
            report(`${at}.sources[${sourceIndex}]`, `"${phaseId}" is not an earlier phase listed in needs`);
          } else if (!task) {
            report(`${at}.sources[${sourceIndex}]`, `phase "${phaseId}" has no task "${taskId}"`);
          } else if (!SCHEMAS_WITH_FILES.has(task.schema)) {
            report(
              `${at}.sources[${sourceIndex}]`,
              `task "${source}" uses schema "${task.schema}", which has no files`,
            );
          }
        });
        break;
      }
      case "git": {
        const hasFiles = [...readable.values()].some((candidate) => candidate.kind === "files");
        if (!hasFiles)
          report(`${at}.needs`, "a git phase needs a files phase (directly or through its needs)");
        break;
      }
      default:
        phase satisfies never;
    }
    seen.set(phase.id, phase);
  });

  const gitPhases = workflow.phases.filter((phase) => phase.kind === "git");
  if (gitPhases.length > 1) report("phases", "at most one git phase");
  return issues;
}

/** Phases a phase may read: its needs and, transitively, theirs. */
function ancestors(
  phase: PhaseDefinition,
  earlier: ReadonlyMap<string, PhaseDefinition>,
): Map<string, PhaseDefinition> {
  const result = new Map<string, PhaseDefinition>();
  const stack = [...phase.needs];
  while (stack.length > 0) {
    const next = stack.pop() as string;
    const found = earlier.get(next);
    if (!found || result.has(next)) continue;
    result.set(next, found);
    stack.push(...found.needs);
  }
  return result;
}

function referenceProblem(
  reference: string,
  readable: ReadonlyMap<string, PhaseDefinition>,
  extra: readonly string[],
): string | undefined {
  const [head, second] = reference.split(".");
  if (head === "request" || (head !== undefined && extra.includes(head))) return undefined;
  const phase = head === undefined ? undefined : readable.get(head);
  if (!phase) {
    const allowed = ["request", ...extra, ...readable.keys()];
    return `template variable "${reference}" is not available here (expected one of: ${allowed.join(", ")}; a phase must be listed in needs)`;
  }
  if (second === undefined) return undefined;
  const keys = phase.kind === "generate" ? phase.tasks.map((task) => task.id) : PHASE_RESULT_KEYS[phase.kind];
  if (!keys.includes(second)) {
    return `"${reference}": phase "${phase.id}" has no result "${second}" (expected one of: ${keys.join(", ")})`;
  }
  return undefined;
}

function unknownRole(role: string, roles: ReadonlySet<string>): string {
  return `unknown role "${role}" (defined roles: ${[...roles].join(", ")})`;
}

/** The output schema's names that carry generated files. */
export function schemaHasFiles(name: keyof typeof OUTPUT_SCHEMAS): boolean {
  return SCHEMAS_WITH_FILES.has(name);
}
