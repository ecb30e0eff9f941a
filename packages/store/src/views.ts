import {
  type GeneratedFile,
  PHASE_KINDS,
  type SessionEvent,
  type SessionSummary,
  type SessionView,
} from "@foundry/contract";
import { Prisma, type PrismaClient, queryRows } from "@foundry/db";
import type { WorkflowDefinition } from "@foundry/workflow";
import {
  callStatusOf,
  failureCodeOf,
  type PhaseOutput,
  phaseOutputOf,
  phaseStatusOf,
  sessionStatusOf,
  sessionWorkflowOf,
} from "./columns.ts";

// The read model the API serves: a session as a person wants to see it, including the seed's
// workflow state (requirements, plans, disagreements, votes, decision, implementations, tests).
// Its shapes are the API contract's (@foundry/contract): defined there once, checked here by type.

/** A session in full, as the API sends it (the contract's type; kept here for existing importers). */
export type { SessionView };

/** A session in full, as the API sends it less its links (which name the API's routes). */
export type SessionRecord = Omit<SessionView, "links">;
type WorkflowState = Omit<SessionView["state"], "votes">;

const STATE_KEYS: Record<string, keyof WorkflowState> = {
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

/**
 * A value of the workflow's kind checked against the contract's (two definitions of one set: a
 * value one allows and the other does not fails loudly here rather than reaching a client).
 */
function oneOf<const T extends string>(values: readonly T[], value: string, what: string): T {
  if ((values as readonly string[]).includes(value)) return value as T;
  throw new Error(`unexpected ${what} ${JSON.stringify(value)} (expected one of: ${values.join(", ")})`);
}

function workflowState(
  workflow: WorkflowDefinition,
  phases: ReadonlyArray<{ phase: string; output: PhaseOutput }>,
): WorkflowState {
  const state: WorkflowState = {
    refinedRequirements: null,
    backendPlan: null,
    frontendPlan: null,
    planComparison: null,
    disagreements: null,
    finalDecision: null,
    backendImplementation: null,
    frontendImplementation: null,
    testImplementation: null,
  };
  for (const phase of workflow.phases) {
    if (phase.kind !== "generate") continue;
    const output = phases.find((run) => run.phase === phase.id)?.output;
    if (!output) continue;
    for (const task of phase.tasks) {
      const key = STATE_KEYS[task.schema];
      const value = output[task.id];
      if (key && key !== "disagreements" && value !== undefined) state[key] = value;
    }
  }
  const comparison = state.planComparison;
  if (comparison !== null && typeof comparison === "object" && "disagreements" in comparison) {
    const { disagreements } = comparison;
    state.disagreements = Array.isArray(disagreements) ? disagreements : null;
  }
  return state;
}

/** One session in full; null when it does not exist. */
export async function getSessionView(
  db: PrismaClient,
  id: string,
  options: { eventLimit?: number } = {},
): Promise<SessionRecord | null> {
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
  const workflow = sessionWorkflowOf(session);
  const titles = new Map(workflow.phases.map((phase) => [phase.id, phase]));
  return {
    id: session.id,
    request: session.request,
    workflow: session.workflowName,
    status: sessionStatusOf(session),
    currentPhase: session.currentPhase,
    error: session.error,
    errorCode: failureCodeOf(session),
    run: session.run,
    retries: session.retries,
    budgetUsd: session.budgetUsd === null ? null : usd(session.budgetUsd),
    cache: session.cache,
    publish: session.publish,
    createdAt: session.createdAt.toISOString(),
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
      ...workflowState(
        workflow,
        session.phases.map((run) => ({ phase: run.phase, output: phaseOutputOf(run) })),
      ),
      votes: session.votes.map((vote) => ({
        disagreementId: vote.disagreementId,
        topic: vote.topic,
        voter: vote.voter,
        provider: vote.provider,
        model: vote.model,
        choice: vote.choice,
        rationale: vote.rationale,
        createdAt: vote.createdAt.toISOString(),
      })),
    },
    phases: session.phases.map((run) => ({
      id: run.phase,
      title: titles.get(run.phase)?.title ?? run.phase,
      kind: oneOf(PHASE_KINDS, titles.get(run.phase)?.kind ?? "generate", "phase kind"),
      status: phaseStatusOf(run),
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
      status: callStatusOf(call),
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
    files: session.files.map(fileView),
    // Read newest first (to keep the last ones), shown oldest first.
    executionLog: session.events.toReversed().map(eventView),
    lastEventId: session.events[0]?.id.toString() ?? null,
  };
}

/** A generated file's metadata (not its content). */
export function fileView(file: {
  path: string;
  sizeBytes: number;
  sha256: string;
  author: string;
  phase: string;
  purpose: string | null;
}): GeneratedFile {
  return {
    path: file.path,
    sizeBytes: file.sizeBytes,
    sha256: file.sha256,
    author: file.author,
    phase: file.phase,
    purpose: file.purpose,
  };
}

/** An event as the API sends it (ids are 64-bit: sent as decimal strings). */
export function eventView(event: {
  id: bigint;
  sessionId: string;
  type: string;
  phase: string | null;
  message: string;
  data: unknown;
  at: Date;
}): SessionEvent {
  return {
    id: event.id.toString(),
    sessionId: event.sessionId,
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
export async function listEvents(
  db: PrismaClient,
  sessionId: string,
  after: bigint,
  limit: number,
): Promise<SessionEvent[] | null> {
  if ((await db.session.count({ where: { id: sessionId } })) === 0) return null;
  const events = await db.sessionEvent.findMany({
    where: { sessionId, id: { gt: after } },
    orderBy: { id: "asc" },
    take: limit,
  });
  return events.map(eventView);
}

const SUMMARY_COLUMNS = {
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
} as const;

function summaryView(row: {
  id: string;
  request: string;
  workflowName: string;
  status: string;
  currentPhase: string | null;
  error: string | null;
  errorCode: string | null;
  retries: number;
  createdAt: Date;
  finishedAt: Date | null;
  inputTokens: number;
  outputTokens: number;
  costUsd: { toString(): string };
  repoUrl: string | null;
}): SessionSummary {
  return {
    id: row.id,
    request: row.request.length > 200 ? `${row.request.slice(0, 199)}…` : row.request,
    workflow: row.workflowName,
    status: sessionStatusOf(row),
    currentPhase: row.currentPhase,
    error: row.error,
    errorCode: failureCodeOf(row),
    retries: row.retries,
    createdAt: row.createdAt.toISOString(),
    finishedAt: iso(row.finishedAt),
    totals: { inputTokens: row.inputTokens, outputTokens: row.outputTokens, costUsd: usd(row.costUsd) },
    repository: row.repoUrl,
  };
}

/** One session as a list shows it, from its row alone (cheap: for pollers); null when it does not exist. */
export async function getSessionSummary(db: PrismaClient, id: string): Promise<SessionSummary | null> {
  // What polling clients read (`?view=summary`): one raw statement on the pool, not a model query.
  const [row] = await queryRows<Parameters<typeof summaryView>[0]>(
    db,
    Prisma.sql`
    SELECT id, request, workflow_name AS "workflowName", status, current_phase AS "currentPhase", error,
      error_code AS "errorCode", retries, created_at AS "createdAt", finished_at AS "finishedAt",
      input_tokens AS "inputTokens", output_tokens AS "outputTokens", cost_usd AS "costUsd", repo_url AS "repoUrl"
    FROM sessions WHERE id = ${id}`,
  );
  return row ? summaryView(row) : null;
}

/** Newest first, by keyset pagination on (createdAt, id). */
export async function listSessions(
  db: PrismaClient,
  options: { limit: number; cursor?: { createdAt: Date; id: string }; status?: string; workflow?: string },
): Promise<{ sessions: SessionSummary[]; next: { createdAt: Date; id: string } | null }> {
  const rows = await db.session.findMany({
    where: {
      ...(options.status && { status: options.status }),
      ...(options.workflow && { workflowName: options.workflow }),
      ...(options.cursor && {
        OR: [
          { createdAt: { lt: options.cursor.createdAt } },
          { createdAt: options.cursor.createdAt, id: { lt: options.cursor.id } },
        ],
      }),
    },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: options.limit + 1,
    select: SUMMARY_COLUMNS,
  });
  const page = rows.slice(0, options.limit);
  const last = page.at(-1);
  return {
    sessions: page.map(summaryView),
    next: rows.length > options.limit && last ? { createdAt: last.createdAt, id: last.id } : null,
  };
}
