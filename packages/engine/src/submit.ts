import { randomUUID } from "node:crypto";
import type { PrismaClient } from "@foundry/db";
import { FoundryError } from "@foundry/errors";
import {
  ORCHESTRATOR_QUEUE,
  type PhasePayload,
  phaseJobId,
  phaseJobName,
  type QueueSet,
} from "@foundry/queue";
import { failSession, insertSession } from "@foundry/store";
import type { WorkflowCatalog, WorkflowDefinition } from "@foundry/workflow";
import type { FlowJob, JobsOptions } from "bullmq";

export interface SubmitRequest {
  request: string;
  /** @default "software-project" */
  workflow?: string;
  publish?: boolean;
  repoName?: string | null;
  /** The most the session may spend (USD). @default the workflow's `budget_usd`, else none */
  budgetUsd?: number;
  /** Reuse identical answers from the response cache. @default the workflow's `cache`, else false */
  cache?: boolean;
}

/** The submission could not be queued (Redis unreachable); the session is recorded as failed. */
export class EnqueueError extends FoundryError {
  override readonly name = "EnqueueError";

  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { code: "ENQUEUE_FAILED", isRetryable: true, ...options });
  }
}

export const DEFAULT_WORKFLOW = "software-project";

/**
 * Records a session (with a snapshot of its workflow) and adds its one flow: the phases as a
 * chain of parent/child jobs, the last phase at the root, so each phase starts when the one
 * before it completes.
 * @throws UnknownWorkflowError for an unknown workflow name, EnqueueError when Redis refuses.
 */
export async function submitSession(
  deps: { db: PrismaClient; queues: QueueSet; workflows: WorkflowCatalog },
  submission: SubmitRequest,
): Promise<{ id: string; workflow: string }> {
  const workflowName = submission.workflow ?? DEFAULT_WORKFLOW;
  const workflow = deps.workflows.get(workflowName);
  const id = randomUUID();
  // Built before anything is stored: only the queue's refusal below is reported as the queue being
  // unavailable, and a flow that cannot be built leaves no session behind.
  const flow = buildFlow(id, workflow, 0, deps.queues.jobOptions("phase"));
  await insertSession(deps.db, {
    id,
    request: submission.request,
    workflowName,
    workflow,
    publish: submission.publish ?? false,
    repoName: submission.repoName ?? null,
    budgetUsd: submission.budgetUsd ?? workflow.budget_usd ?? null,
    cache: submission.cache ?? workflow.cache ?? false,
  });
  try {
    await deps.queues.flows.add(flow);
  } catch (cause) {
    await failSession(deps.db, id, {
      reason: `could not queue the session: ${(cause as Error).message}`,
      code: "queue",
    });
    throw new EnqueueError("the job queue is unavailable; try again shortly", { cause });
  }
  return { id, workflow: workflowName };
}

/**
 * Run `run` of the session's phases as one flow: each phase's only child is the phase before it. Each
 * phase job gets `options` (QueueSet.jobOptions("phase")) and its id.
 */
export function buildFlow(
  sessionId: string,
  workflow: WorkflowDefinition,
  run: number,
  options: Readonly<JobsOptions>,
): FlowJob {
  let node: FlowJob | undefined;
  for (const phase of workflow.phases) {
    const data: PhasePayload = { sessionId, phase: phase.id, run };
    node = {
      name: phaseJobName(phase.id),
      queueName: ORCHESTRATOR_QUEUE,
      data,
      opts: { ...options, jobId: phaseJobId(sessionId, run, phase.id) },
      ...(node && { children: [node] }),
    } as FlowJob;
  }
  if (!node) throw new Error(`workflow ${workflow.name} has no phases`);
  return node;
}
