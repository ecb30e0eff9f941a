import type { Prisma } from "@foundry/db";
import type { ProviderName } from "@foundry/llm";
import { callJobIdFor, callJobName, type ModelCallPayload, phaseJobId, phasePayload } from "@foundry/queue";
import {
  type AnsweredCall,
  ensureCalls,
  finishPhaseRun,
  type PendingCall,
  type PhaseCall,
  recordEvent,
  type SessionForRun,
  sessionHasEnded,
  splitPhaseCalls,
  startPhaseRun,
  storeVotes,
  succeededCalls,
  waitForPendingCalls,
} from "@foundry/store";
import {
  type GeneratePhase,
  type PhaseDefinition,
  type RunContext,
  schemaHasFiles,
  type TallyRow,
  type VotePhase,
  type WorkflowDefinition,
} from "@foundry/workflow";
import { checkFiles } from "@foundry/workspace";
import { type Job, UnrecoverableError, WaitingChildrenError } from "bullmq";
import type { EngineDeps } from "./deps.ts";
import { DEFAULT_DURABILITY } from "./durability.ts";
import { type OutageOptions, throughOutage } from "./infrastructure.ts";
import { RETRY_HINT } from "./job-control.ts";
import { rejectFiles, runFilesPhase } from "./phases/files.ts";
import { gatherGenerate, gatherVote, overriddenMajorities } from "./phases/gather.ts";
import { runGitPhase } from "./phases/git.ts";
import { buildContext, planCalls, skipReason, voteItems } from "./plan.ts";
import type { SessionMemo } from "./session-memo.ts";

/** What a phase job returns: small, because BullMQ stores it in three places. */
export interface PhaseJobResult {
  phase: string;
  /** `superseded`: the job belongs to an earlier run of the session (retried or re-queued) and did nothing. */
  status: "succeeded" | "skipped" | "superseded";
}

/**
 * Runs one phase of a session (a job of the orchestrator queue). Idempotent by construction: a
 * phase already finished in Postgres returns at once; calls already journaled are not queued
 * again; a generate or vote phase queues its missing calls as child jobs, waits for them
 * (BullMQ's step-job pattern) and, when it runs again, gathers their results from the journal.
 * While PostgreSQL or the queue is unreachable it waits and starts over (bounded), so an outage
 * never uses up the job's attempts.
 */
export async function runPhaseJob(
  deps: EngineDeps,
  memo: SessionMemo,
  job: Job,
  token: string,
): Promise<PhaseJobResult> {
  const payload = phasePayload.safeParse(job.data);
  if (!payload.success) throw new UnrecoverableError(`invalid phase job payload: ${payload.error.message}`);
  const log = deps.log.child({ sessionId: payload.data.sessionId, phase: payload.data.phase, jobId: job.id });
  const started = performance.now();
  const observe = (outcome: "succeeded" | "skipped" | "waiting" | "failed") =>
    deps.observe?.phase?.({ phase: payload.data.phase, outcome, durationMs: performance.now() - started });
  try {
    const result = await throughOutage(
      () => runPhase(deps, memo, job, token, payload.data, log),
      phaseOutage(deps, log),
    );
    if (result.status !== "superseded") observe(result.status);
    return result;
  } catch (error) {
    observe(error instanceof WaitingChildrenError ? "waiting" : "failed");
    throw error;
  }
}

/** How a phase job waits while PostgreSQL or the queue is unreachable: bounded, and logged. */
function phaseOutage(deps: EngineDeps, log: EngineDeps["log"]): OutageOptions {
  return {
    timeoutMs: deps.durability?.outageTimeoutMs ?? DEFAULT_DURABILITY.outageTimeoutMs,
    onWait: (fault, error, waitedMs) =>
      log.warn({ fault, error: (error as Error).message, waitedMs }, `${fault} unavailable; waiting`),
  };
}

async function runPhase(
  deps: EngineDeps,
  memo: SessionMemo,
  job: Job,
  token: string,
  payload: { sessionId: string; phase: string; run: number },
  log: EngineDeps["log"],
): Promise<PhaseJobResult> {
  const { sessionId, phase: phaseId } = payload;
  // Started here when it is pending and the session is active on this run; read as it was just before.
  const { start, session, calls } = await startPhaseRun(
    deps.db,
    { sessionId, run: payload.run, phase: phaseId },
    memo.known(sessionId),
  );
  if (!session || sessionHasEnded(session)) {
    memo.forget(sessionId);
    if (!session) throw new UnrecoverableError(`session ${sessionId} does not exist`);
    throw new UnrecoverableError(`session ${sessionId} has already ${session.status}. ${RETRY_HINT}`);
  }
  memo.remember(sessionId, session);
  // A job of an earlier run (before a retry or a re-queue) must not run phases a second time.
  if (payload.run !== session.run) return { phase: phaseId, status: "superseded" };
  const workflow = session.workflow;
  const phase = workflow.phases.find((candidate) => candidate.id === phaseId);
  const run = session.phases.find((candidate) => candidate.phase === phaseId);
  if (!phase || !run) throw new UnrecoverableError(`session ${sessionId} has no phase ${phaseId}`);
  if (run.status === "succeeded" || run.status === "skipped") return { phase: phaseId, status: run.status };

  // A phase that was pending and could not start: the session ended in the meantime. (Back from
  // waiting for its calls, or run again after a crash, it is the same run, already started.)
  if (run.status === "pending" && start === "ended")
    throw new UnrecoverableError(`session ${sessionId} has ended`);
  const context = buildContext(session.request, session.phases);

  const reason = skipReason(phase, context);
  if (reason) {
    await finishPhase(deps, memo, session, workflow, phase, {
      status: "skipped",
      output: null,
      skipReason: reason,
    });
    log.info({ reason }, "phase skipped");
    await startNextPhase(deps, memo, job, session, workflow, phase, log);
    return { phase: phaseId, status: "skipped" };
  }

  const output = await runPhaseKind(deps, job, token, session, workflow, phase, context, calls);
  await finishPhase(deps, memo, session, workflow, phase, { status: "succeeded", output, skipReason: null });
  log.info({}, "phase succeeded");
  await startNextPhase(deps, memo, job, session, workflow, phase, log);
  return { phase: phaseId, status: "succeeded" };
}

/**
 * Starts the phase after `phase` from the job that has just finished `phase`, when the next one makes
 * model calls: journals its calls and queues their jobs as children of the next phase's job, which is
 * waiting for this one (its only child until then). The next phase's job then runs once, when its
 * calls have answered, instead of once to queue them and once more to gather them: one activation
 * fewer per phase (BullMQ's claim and its move to waiting for children), and its calls go out without
 * waiting for BullMQ to hand the phase over.
 *
 * Best effort: anything this skips or fails to do (a phase that is skipped or writes files, a session
 * that ended, a fault) the next phase's own job does, as it always could, since every step here is
 * idempotent (the start, the journal, the job ids).
 */
async function startNextPhase(
  deps: EngineDeps,
  memo: SessionMemo,
  job: Job,
  session: SessionForRun,
  workflow: WorkflowDefinition,
  phase: PhaseDefinition,
  log: EngineDeps["log"],
): Promise<void> {
  const next = workflow.phases[workflow.phases.findIndex((candidate) => candidate.id === phase.id) + 1];
  if (!next || (next.kind !== "generate" && next.kind !== "vote")) return;
  // The flow's shape (buildFlow): this job's parent is the next phase's job of the same run.
  const parentId = phaseJobId(session.id, session.run, next.id);
  if (job.parent?.id !== parentId) return;
  try {
    const { start, session: current } = await startPhaseRun(
      deps.db,
      { sessionId: session.id, run: session.run, phase: next.id },
      memo.known(session.id),
    );
    // Not started here (already running, waiting or finished, or the session ended): left to its job.
    if (start !== "started" || !current || sessionHasEnded(current)) return;
    memo.remember(session.id, current);
    const context = buildContext(current.request, current.phases);
    // A phase to skip is skipped by its own job, which records why.
    if (skipReason(next, context)) return;
    // Once started, through an outage as a phase job would: the next phase's job may not run until
    // its calls that were queued have answered, so the ones left out would wait that long.
    const outage = phaseOutage(deps, log);
    const calls = planCalls(workflow, next, context);
    const pending = await throughOutage(() => ensureCalls(deps.db, session.id, next.id, calls), outage);
    const parent = { id: parentId, queue: job.parent.queueKey };
    if (pending.length > 0)
      await throughOutage(() => addCallJobs(deps, parent, current, next, pending), outage);
  } catch (error) {
    log.warn(
      { next: next.id, error: (error as Error).message },
      "could not start the next phase from this one; its own job will",
    );
  }
}

async function runPhaseKind(
  deps: EngineDeps,
  job: Job,
  token: string,
  session: SessionForRun,
  workflow: WorkflowDefinition,
  phase: PhaseDefinition,
  context: RunContext,
  /** The phase's calls when it was waiting for them (read with the session); null otherwise. */
  waitedFor: readonly PhaseCall[] | null,
): Promise<Prisma.InputJsonValue> {
  switch (phase.kind) {
    case "generate":
    case "vote": {
      if (waitedFor) {
        // Back from waiting (or run again after a crash while waiting): the calls are journaled
        // already and were read with the session, instead of being journaled again and read twice.
        const { unanswered, answered } = splitPhaseCalls(waitedFor);
        if (unanswered.length === 0) return gather(deps, session, phase, context, answered);
        // Still waiting: marked so again, and its unanswered calls' jobs queued (those already queued stay).
        const pending = await waitForPendingCalls(deps.db, session.id, phase.id);
        if (pending.length > 0 && (await queueCalls(deps, job, token, session, phase, pending)))
          throw new WaitingChildrenError();
      } else {
        // Journals the calls and, when some have no answer, marks the phase waiting for them.
        const pending = await ensureCalls(deps.db, session.id, phase.id, planCalls(workflow, phase, context));
        if (pending.length > 0 && (await queueCalls(deps, job, token, session, phase, pending)))
          throw new WaitingChildrenError();
      }
      // No call left to wait for (all answered, or every child finished before the job could wait).
      return gather(deps, session, phase, context, await succeededCalls(deps.db, session.id, phase.id));
    }
    case "files":
      return runFilesPhase(deps, session, workflow, phase, context);
    case "git":
      return runGitPhase(deps, session, workflow, phase.id);
    default:
      throw new UnrecoverableError(`unknown phase kind ${(phase as PhaseDefinition).kind}`);
  }
}

/**
 * Queues a child job for each call without an answer (a job id per call and run, so a job already
 * queued is not queued twice) and moves the phase job to waiting for them (the phase's row is marked
 * waiting before). Returns true when the phase must wait for children; false when they all finished
 * meanwhile.
 */
async function queueCalls(
  deps: EngineDeps,
  job: Job,
  token: string,
  session: SessionForRun,
  phase: GeneratePhase | VotePhase,
  pending: readonly PendingCall[],
): Promise<boolean> {
  await addCallJobs(deps, { id: job.id as string, queue: job.queueQualifiedName }, session, phase, pending);
  return job.moveToWaitingChildren(token);
}

/** Adds a job for each call of `pending` (its id per call and run) as a child of the phase job `parent`. */
async function addCallJobs(
  deps: EngineDeps,
  parent: { id: string; queue: string },
  session: Pick<SessionForRun, "id" | "run">,
  phase: GeneratePhase | VotePhase,
  pending: readonly PendingCall[],
): Promise<void> {
  // One round trip per provider queue, however many calls it gets.
  const byProvider = Map.groupBy(pending, (call) => call.provider as ProviderName);
  await Promise.all(
    [...byProvider].map(([provider, calls]) =>
      deps.queues.provider(provider).addBulk(
        calls.map((call) => {
          const data: ModelCallPayload = {
            sessionId: session.id,
            phase: phase.id,
            idempotencyKey: call.idempotencyKey,
            run: session.run,
          };
          return {
            name: callJobName(phase.id, call.callKey),
            data,
            opts: { ...deps.queues.jobOptions("modelCall"), jobId: callJobIdFor(call, session.run), parent },
          };
        }),
      ),
    ),
  );
}

async function gather(
  deps: EngineDeps,
  session: SessionForRun,
  phase: GeneratePhase | VotePhase,
  context: RunContext,
  calls: readonly AnsweredCall[],
): Promise<Prisma.InputJsonValue> {
  if (phase.kind === "generate") {
    const output = gatherGenerate(phase, calls);
    // Generated files are checked as soon as they arrive, so hostile or oversized output fails
    // here instead of being passed on (and paid for again) in later phases' prompts.
    for (const task of phase.tasks.filter((candidate) => schemaHasFiles(candidate.schema))) {
      const files = (output[task.id] as { files?: Array<Record<string, unknown>> } | null)?.files ?? [];
      const { rejected } = checkFiles(
        files.map((file) => ({
          path: file.path,
          content: file.content,
          purpose: file.purpose,
          author: task.role,
          phase: phase.id,
        })),
        deps.fileLimits,
      );
      if (rejected.length > 0) await rejectFiles(deps, session.id, phase.id, rejected);
    }
    const tally = Object.values(context).flatMap((value) =>
      value && typeof value === "object" && "tally" in value
        ? ((value as { tally: TallyRow[] }).tally ?? [])
        : [],
    );
    for (const task of phase.tasks.filter((candidate) => candidate.schema === "resolution")) {
      for (const override of overriddenMajorities(output[task.id], tally)) {
        await recordEvent(deps.db, {
          sessionId: session.id,
          phase: phase.id,
          type: "decision.override",
          message: `the decision on ${(override as { disagreementId: string }).disagreementId} goes against the majority`,
          data: override,
        });
      }
    }
    return output as Prisma.InputJsonValue;
  }
  const items = voteItems(phase, context);
  const result = gatherVote(phase, items, calls);
  await storeVotes(deps.db, session.id, result.votes);
  return result as unknown as Prisma.InputJsonValue;
}

async function finishPhase(
  deps: EngineDeps,
  memo: SessionMemo,
  session: SessionForRun,
  workflow: WorkflowDefinition,
  phase: PhaseDefinition,
  result: {
    status: "succeeded" | "skipped";
    output: Prisma.InputJsonValue | null;
    skipReason: string | null;
  },
): Promise<void> {
  const isLast = workflow.phases.at(-1)?.id === phase.id;
  // Only a phase in progress of a session still active finishes: a cancel or a failure recorded
  // meanwhile is never overwritten.
  const finished = await finishPhaseRun(deps.db, session.id, { ...phase, isLast }, result);
  if (finished.state === "ended" || isLast) memo.forget(session.id);
  else if (finished.state === "finished" && result.status === "succeeded")
    memo.succeeded(session.id, phase.id, finished.output);
  if (finished.state === "ended") throw new UnrecoverableError(`session ${session.id} has ended`);
}
