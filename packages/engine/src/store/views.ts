import type { PrismaClient } from "@foundry/db";
import { type WorkflowDefinition, workflowFromSnapshot } from "@foundry/workflow";

// The read model the API serves: a session as a person wants to see it, including the seed's
// workflow state (requirements, plans, disagreements, votes, decision, implementations, tests).

const STATE_KEYS: Record<string, string> = {
  requirements: "refinedRequirements",
  backend_plan: "backendPlan",
  frontend_plan: "frontendPlan",
  plan_comparison: "planComparison",
  resolution: "finalDecision",
  backend_implementation: "backendImplementation",
  frontend_implementation: "frontendImplementation",
  test_suite: "testImplementation",
};

const iso = (date: Date | null) => date?.toISOString() ?? null;
const usd = (value: { toString(): string }) => Number(value.toString());

/** The seed's `WorkflowState`: each value is the structured result that produced it, or null. */
export interface WorkflowState {
  refinedRequirements: unknown;
  backendPlan: unknown;
  frontendPlan: unknown;
  planComparison: unknown;
  disagreements: unknown[] | null;
  finalDecision: unknown;
  backendImplementation: unknown;
  frontendImplementation: unknown;
  testImplementation: unknown;
}

function workflowState(
  workflow: WorkflowDefinition,
  phases: ReadonlyArray<{ phase: string; output: unknown }>,
): WorkflowState {
  const state: Record<string, unknown> = {};
  for (const key of Object.values(STATE_KEYS)) state[key] = null;
  for (const phase of workflow.phases) {
    if (phase.kind !== "generate") continue;
    const output = phases.find((run) => run.phase === phase.id)?.output as
      | Record<string, unknown>
      | null
      | undefined;
    for (const task of phase.tasks) {
      const key = STATE_KEYS[task.schema];
      if (key && output?.[task.id] !== undefined) state[key] = output[task.id];
    }
  }
  const comparison = state.planComparison as { disagreements?: unknown[] } | null;
  state.disagreements = comparison?.disagreements ?? null;
  return state as unknown as WorkflowState;
}

/** One session in full; null when it does not exist. */
export async function getSessionView(db: PrismaClient, id: string, options: { eventLimit?: number } = {}) {
  const session = await db.session.findUnique({
    where: { id },
    include: {
      phases: { orderBy: { position: "asc" } },
      calls: {
        orderBy: [{ createdAt: "asc" }, { callKey: "asc" }],
        omit: { request: true, response: true, responseText: true, leaseOwner: true, repair: true },
      },
      files: { orderBy: { path: "asc" }, omit: { content: true } },
      votes: { orderBy: [{ disagreementId: "asc" }, { voter: "asc" }] },
      events: { orderBy: { id: "desc" }, take: options.eventLimit ?? 500 },
    },
  });
  if (!session) return null;
  const workflow = workflowFromSnapshot(session.workflow, session.id);
  const titles = new Map(workflow.phases.map((phase) => [phase.id, phase]));
  return {
    id: session.id,
    request: session.request,
    workflow: session.workflowName,
    status: session.status,
    currentPhase: session.currentPhase,
    error: session.error,
    errorCode: session.errorCode,
    run: session.run,
    retries: session.retries,
    budgetUsd: session.budgetUsd === null ? null : usd(session.budgetUsd),
    cache: session.cache,
    publish: session.publish,
    createdAt: iso(session.createdAt),
    startedAt: iso(session.startedAt),
    finishedAt: iso(session.finishedAt),
    totals: {
      inputTokens: session.inputTokens,
      outputTokens: session.outputTokens,
      costUsd: usd(session.costUsd),
      calls: session.calls.length,
      cachedCalls: session.calls.filter((call) => call.cached).length,
      fallbacks: session.calls.filter((call) => call.fallbackFrom !== null).length,
    },
    workspace: session.workspacePath,
    repository: session.repoUrl,
    state: {
      ...workflowState(workflow, session.phases),
      votes: session.votes.map(({ sessionId: _, id: __, ...vote }) => ({
        ...vote,
        createdAt: iso(vote.createdAt),
      })),
    },
    phases: session.phases.map((run) => ({
      id: run.phase,
      title: titles.get(run.phase)?.title ?? run.phase,
      kind: titles.get(run.phase)?.kind ?? "generate",
      status: run.status,
      skipReason: run.skipReason,
      error: run.error,
      attempts: run.attempts,
      startedAt: iso(run.startedAt),
      finishedAt: iso(run.finishedAt),
      durationMs: run.startedAt && run.finishedAt ? run.finishedAt.getTime() - run.startedAt.getTime() : null,
    })),
    calls: session.calls.map((call) => ({
      idempotencyKey: call.idempotencyKey,
      phase: call.phase,
      callKey: call.callKey,
      role: call.role,
      provider: call.provider,
      model: call.model,
      schema: call.schemaName,
      status: call.status,
      inputTokens: call.inputTokens,
      outputTokens: call.outputTokens,
      costUsd: usd(call.costUsd),
      latencyMs: call.latencyMs,
      attempts: call.attempts,
      rateLimitHits: call.rateLimitHits,
      cached: call.cached,
      fallbackFrom: call.fallbackFrom,
      worker: call.workerHost ? { host: call.workerHost, pid: call.workerPid } : null,
      error: call.error,
      errorCode: call.errorCode,
      startedAt: iso(call.startedAt),
      finishedAt: iso(call.finishedAt),
    })),
    files: session.files.map((file) => ({
      path: file.path,
      sizeBytes: file.sizeBytes,
      sha256: file.sha256,
      author: file.author,
      phase: file.phase,
      purpose: file.purpose,
    })),
    executionLog: session.events.reverse().map(eventView),
  };
}

export type SessionView = NonNullable<Awaited<ReturnType<typeof getSessionView>>>;

function eventView(event: {
  id: bigint;
  type: string;
  phase: string | null;
  message: string;
  data: unknown;
  at: Date;
}) {
  return {
    id: event.id.toString(),
    type: event.type,
    phase: event.phase,
    message: event.message,
    data: event.data,
    at: event.at.toISOString(),
  };
}

/**
 * Events after `after` (an event id), oldest first, for polling and resuming a live view; null
 * when the session does not exist. A session's events commit in id order (see recordEvents), so
 * following by id misses none.
 */
export async function listEvents(db: PrismaClient, sessionId: string, after: bigint, limit: number) {
  if ((await db.session.count({ where: { id: sessionId } })) === 0) return null;
  const events = await db.sessionEvent.findMany({
    where: { sessionId, id: { gt: after } },
    orderBy: { id: "asc" },
    take: limit,
  });
  return events.map(eventView);
}

/** Newest first, by keyset pagination on (createdAt, id). */
export async function listSessions(
  db: PrismaClient,
  options: { limit: number; cursor?: { createdAt: Date; id: string }; status?: string },
) {
  const rows = await db.session.findMany({
    where: {
      ...(options.status && { status: options.status }),
      ...(options.cursor && {
        OR: [
          { createdAt: { lt: options.cursor.createdAt } },
          { createdAt: options.cursor.createdAt, id: { lt: options.cursor.id } },
        ],
      }),
    },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: options.limit + 1,
    select: {
      id: true,
      request: true,
      workflowName: true,
      status: true,
      currentPhase: true,
      error: true,
      errorCode: true,
      retries: true,
      createdAt: true,
      finishedAt: true,
      inputTokens: true,
      outputTokens: true,
      costUsd: true,
      repoUrl: true,
    },
  });
  const page = rows.slice(0, options.limit);
  const last = page.at(-1);
  return {
    sessions: page.map((row) => ({
      id: row.id,
      request: row.request.length > 200 ? `${row.request.slice(0, 199)}…` : row.request,
      workflow: row.workflowName,
      status: row.status,
      currentPhase: row.currentPhase,
      error: row.error,
      errorCode: row.errorCode,
      retries: row.retries,
      createdAt: row.createdAt.toISOString(),
      finishedAt: iso(row.finishedAt),
      totals: { inputTokens: row.inputTokens, outputTokens: row.outputTokens, costUsd: usd(row.costUsd) },
      repository: row.repoUrl,
    })),
    next: rows.length > options.limit && last ? { createdAt: last.createdAt, id: last.id } : null,
  };
}
