import { FoundryError } from "@foundry/errors";
import type { ProviderName } from "@foundry/llm";
import type { PlannedCall } from "@foundry/store";
import {
  type GeneratePhase,
  type PhaseDefinition,
  type RunContext,
  readPath,
  renderTemplate,
  type VotePhase,
  type WorkflowDefinition,
} from "@foundry/workflow";

export function buildContext(
  request: string,
  phases: ReadonlyArray<{ phase: string; status: string; output: unknown }>,
): RunContext {
  const context: RunContext = { request };
  for (const run of phases) {
    if (run.status === "succeeded" || run.status === "skipped") context[run.phase] = run.output ?? null;
  }
  return context;
}

/** Why a phase with `skip_unless` is skipped, or null when it runs. */
export function skipReason(phase: PhaseDefinition, context: RunContext): string | null {
  if (!phase.skip_unless) return null;
  const value = readPath(context, phase.skip_unless);
  const empty =
    value === undefined ||
    value === null ||
    value === false ||
    value === "" ||
    (Array.isArray(value) && value.length === 0) ||
    (typeof value === "object" && !Array.isArray(value) && Object.keys(value).length === 0);
  return empty ? `${phase.skip_unless} is empty` : null;
}

/** A phase's input that is not what the workflow promised (a user-visible, non-retryable failure). */
export class PhaseInputError extends FoundryError {
  override readonly name = "PhaseInputError";

  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { code: "PHASE_INPUT_INVALID", isRetryable: false, ...options });
  }
}

/**
 * The provider and model a role uses (the first of its list) and its whole route: the later entries
 * are the fallbacks a call moves to when the first is unavailable.
 */
export function providerFor(
  workflow: WorkflowDefinition,
  role: string,
): { provider: ProviderName; model: string; route: Array<{ provider: ProviderName; model: string }> } {
  const providers = workflow.roles[role]?.providers ?? [];
  const choice = providers[0];
  if (!choice) throw new PhaseInputError(`role "${role}" has no provider`);
  return {
    provider: choice.provider,
    model: choice.model,
    route: providers.map(({ provider, model }) => ({ provider, model })),
  };
}

/** The model calls a generate or vote phase makes, fully rendered and keyed. */
export function planCalls(
  workflow: WorkflowDefinition,
  phase: GeneratePhase | VotePhase,
  context: RunContext,
): PlannedCall[] {
  return phase.kind === "generate"
    ? planGenerate(workflow, phase, context)
    : planVote(workflow, phase, context);
}

function planGenerate(
  workflow: WorkflowDefinition,
  phase: GeneratePhase,
  context: RunContext,
): PlannedCall[] {
  return phase.tasks.map((task) => ({
    callKey: task.id,
    role: task.role,
    ...providerFor(workflow, task.role),
    schemaName: task.schema,
    system: workflow.roles[task.role]?.system ?? "",
    prompt: renderTemplate(task.prompt, context),
    maxOutputTokens: task.max_output_tokens,
    temperature: task.temperature,
    meta: { task: task.id },
  }));
}

/** An item put to the vote: anything with an `id` (and ideally a `topic`). */
export interface VoteItem {
  id: string;
  topic: string;
  [key: string]: unknown;
}

export function voteItems(phase: VotePhase, context: RunContext): VoteItem[] {
  const items = readPath(context, phase.items);
  if (!Array.isArray(items)) throw new PhaseInputError(`${phase.items} is not a list`);
  // Each item is one paid call per voter: a runaway list fails clearly instead of running up a bill.
  if (items.length > phase.max_items) {
    throw new PhaseInputError(
      `${phase.items} lists ${items.length} items, more than this vote's max_items (${phase.max_items})`,
    );
  }
  const seen = new Set<string>();
  return items.map((item, index) => {
    if (item === null || typeof item !== "object" || typeof (item as { id?: unknown }).id !== "string") {
      throw new PhaseInputError(`${phase.items}[${index}] has no string "id"`);
    }
    const id = (item as { id: string }).id;
    if (seen.has(id))
      throw new PhaseInputError(`${phase.items} lists the id "${id}" twice; votes could not be told apart`);
    seen.add(id);
    const topic = (item as { topic?: unknown }).topic;
    return {
      ...(item as Record<string, unknown>),
      id: (item as { id: string }).id,
      topic: typeof topic === "string" ? topic : "",
    };
  });
}

function planVote(workflow: WorkflowDefinition, phase: VotePhase, context: RunContext): PlannedCall[] {
  return voteItems(phase, context).flatMap((item, index) =>
    phase.voters.map((voter) => ({
      // The item's position keys the call: model-chosen ids may hold characters job ids cannot.
      callKey: `item${index + 1}-${voter}`,
      role: voter,
      ...providerFor(workflow, voter),
      schemaName: phase.schema,
      system: workflow.roles[voter]?.system ?? "",
      prompt: renderTemplate(phase.prompt, {
        ...context,
        item,
        voter: workflow.roles[voter]?.title ?? voter,
      }),
      meta: { item: item.id, voter },
    })),
  );
}
