import { setTimeout as sleep } from "node:timers/promises";
import type { PrismaClient } from "@foundry/db";
import { ORCHESTRATOR_QUEUE, phaseJobId, type QueueSet } from "@foundry/queue";
import {
  failSession,
  getSessionWorkflow,
  markCancelled,
  markRetried,
  type SessionStatus,
} from "@foundry/store";
import type { Logger } from "./logger.ts";
import { addSessionFlow, buildFlow } from "./submit.ts";

// What a person can do to a session besides submitting it: cancel it and retry it. Both change
// Postgres first (the source of truth: a cancelled session's calls can no longer be claimed, so no
// request is sent for it from that instant), then bring the queue in line.

export interface ControlDeps {
  db: PrismaClient;
  queues: QueueSet;
  log?: Logger;
}

/** The outcome of an action on a session, as a value: a refusal names the session's status. */
export type ControlResult =
  | { ok: true; status: SessionStatus; run: number }
  | { ok: false; code: "NOT_FOUND" }
  | { ok: false; code: "CONFLICT"; status: SessionStatus };

/**
 * Cancels a queued or running session: it is `cancelled` at once, requests in flight are aborted
 * (every worker hears it through PostgreSQL NOTIFY, or at its next lease renewal), and its jobs are
 * removed from the queues once the ones in flight have stopped.
 */
export async function cancelSession(
  deps: ControlDeps,
  sessionId: string,
  by: string,
): Promise<ControlResult> {
  const change = await markCancelled(deps.db, sessionId, by);
  if (!change.ok) {
    return change.status === null
      ? { ok: false, code: "NOT_FOUND" }
      : { ok: false, code: "CONFLICT", status: change.status };
  }
  void removeRunJobs(deps, sessionId, change.run).catch((error: Error) =>
    deps.log?.warn({ sessionId, error: error.message }, "could not remove a cancelled session's jobs"),
  );
  return { ok: true, status: "cancelled", run: change.run };
}

/**
 * Resumes a failed, cancelled or over-budget session (with a new budget, when given) from the phase
 * that did not finish, under a new run number:
 * finished phases and every journaled answer are reused, so no call that has an answer is sent again.
 * When the queue refuses the new flow, the session is failed again with that reason (and the error
 * is thrown for the caller to report).
 */
export async function retrySession(
  deps: ControlDeps,
  sessionId: string,
  options: { budgetUsd?: number } = {},
): Promise<ControlResult> {
  const change = await markRetried(deps.db, sessionId, options);
  if (!change.ok) {
    return change.status === null
      ? { ok: false, code: "NOT_FOUND" }
      : { ok: false, code: "CONFLICT", status: change.status };
  }
  // Gone only when it was cancelled and deleted in the meantime.
  const workflow = await getSessionWorkflow(deps.db, sessionId);
  if (!workflow) return { ok: false, code: "NOT_FOUND" };
  try {
    await addSessionFlow(
      deps.queues,
      buildFlow(sessionId, workflow, change.run, deps.queues.jobOptions("phase")),
    );
  } catch (cause) {
    await failSession(deps.db, sessionId, {
      reason: `could not queue the retry: ${(cause as Error).message}`,
      code: "queue",
      run: change.run,
    });
    throw cause;
  }
  return { ok: true, status: "queued", run: change.run };
}

/**
 * Removes the jobs of one run of a session from the queues (its root phase job and, through it, every
 * phase and call job). Jobs in flight are locked and cannot be removed: it tries again for a few
 * seconds while they stop. Returns whether the run's jobs are gone.
 */
export async function removeRunJobs(
  deps: ControlDeps,
  sessionId: string,
  run: number,
  options: { attempts?: number; intervalMs?: number } = {},
): Promise<boolean> {
  const workflow = await getSessionWorkflow(deps.db, sessionId);
  if (!workflow) return true;
  const last = workflow.phases.at(-1);
  if (!last) return true;
  const root = phaseJobId(sessionId, run, last.id);
  const queue = deps.queues.get(ORCHESTRATOR_QUEUE);
  const attempts = options.attempts ?? 20;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    if ((await queue.getJobState(root)) === "unknown") return true;
    if ((await queue.remove(root, { removeChildren: true })) === 1) return true;
    await sleep(options.intervalMs ?? 250);
  }
  return false;
}
