import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { isOutOfConnections, type PrismaClient } from "@foundry/db";
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
    await addSessionFlow(deps.queues, flow);
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
 * How long adding a session's flow waits for PostgreSQL to have a connection slot again. On the
 * PostgreSQL queue backend a burst of submissions while every worker is busy can take every slot
 * the server allows for a moment (`sorry, too many clients already`, SQLSTATE 53300): in 4 of 17
 * runs of `bench:overhead --layout per-provider --backend postgres` (an API and four workers on a
 * server of 100 connections), one or two of 30 sessions submitted at once failed so. Any other
 * failure of the queue is answered at once (not `throughOutage`, which would also wait out a Redis
 * that is down, where the API answers 503 at once).
 */
export const ENQUEUE_SLOT_WAIT_MS = 5_000;

/**
 * Adds a session's flow (`buildFlow`), trying again while PostgreSQL has no connection slot left, for
 * at most ENQUEUE_SLOT_WAIT_MS. Safe to repeat: such a failure happens before anything is sent, and
 * the phase jobs' ids are fixed by session, run and phase.
 */
export async function addSessionFlow(queues: QueueSet, flow: FlowJob): Promise<void> {
  const deadline = Date.now() + ENQUEUE_SLOT_WAIT_MS;
  for (let delay = 50; ; delay = Math.min(delay * 2, 500)) {
    try {
      await queues.flows.add(flow);
      return;
    } catch (error) {
      if (!isOutOfConnections(error) || Date.now() + delay > deadline) throw error;
      await sleep(delay);
    }
  }
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
