import type { Prisma, PrismaClient } from "@foundry/db";
import type { ProviderName, Usage } from "@foundry/llm";
import type { OutputSchemaName } from "@foundry/workflow";
import { idempotencyKey } from "../catalog.ts";
import { type Db, recordEvent } from "./events.ts";

// The journal of model calls. A call's row is written (pending, with its full request) before its
// job is queued, and its result is written before its job completes; a job that runs again finds
// the result and does not pay for it twice.

/** One model call a phase needs, fully rendered. */
export interface PlannedCall {
  /** Unique within the phase: a task id, or `<item>-<voter>` in a vote. */
  callKey: string;
  role: string;
  provider: ProviderName;
  model: string;
  schemaName: OutputSchemaName;
  system: string;
  prompt: string;
  maxOutputTokens?: number;
  temperature?: number;
  /** What the phase needs to interpret the answer (task id, vote item and voter). */
  meta: { task?: string; item?: string; voter?: string };
}

/** The request as stored in the journal (and reused on every attempt). */
export interface StoredRequest {
  system: string;
  prompt: string;
  maxOutputTokens?: number;
  temperature?: number;
  meta: PlannedCall["meta"];
}

/**
 * Journals the phase's calls that are not journaled yet and returns every call of the phase that
 * has not succeeded (the ones that still need a job).
 */
export async function ensureCalls(
  db: PrismaClient,
  sessionId: string,
  phase: string,
  calls: readonly PlannedCall[],
) {
  await db.modelCall.createMany({
    skipDuplicates: true,
    data: calls.map((call) => ({
      idempotencyKey: idempotencyKey(sessionId, phase, call.callKey),
      sessionId,
      phase,
      callKey: call.callKey,
      role: call.role,
      provider: call.provider,
      model: call.model,
      schemaName: call.schemaName,
      status: "pending",
      request: {
        system: call.system,
        prompt: call.prompt,
        maxOutputTokens: call.maxOutputTokens,
        temperature: call.temperature,
        meta: call.meta,
      } satisfies StoredRequest as Prisma.InputJsonValue,
    })),
  });
  return db.modelCall.findMany({
    where: { sessionId, phase, status: { not: "succeeded" } },
    orderBy: { callKey: "asc" },
  });
}

export async function getCall(db: Db, key: string) {
  return db.modelCall.findUnique({ where: { idempotencyKey: key } });
}

export type JournaledCall = NonNullable<Awaited<ReturnType<typeof getCall>>>;

export interface Runner {
  jobId: string | undefined;
  host: string;
  pid: number;
}

/**
 * Records that a provider request is about to be made (one more attempt, by this worker).
 * Returns false, and records nothing, when the call has meanwhile succeeded elsewhere (a job that
 * ran twice): then no request must be made.
 */
export async function startAttempt(db: PrismaClient, call: JournaledCall, runner: Runner): Promise<boolean> {
  return db.$transaction(async (tx) => {
    const started = await tx.modelCall.updateMany({
      where: { idempotencyKey: call.idempotencyKey, status: { in: ["pending", "running"] } },
      data: {
        status: "running",
        attempts: { increment: 1 },
        startedAt: call.startedAt ?? new Date(),
        jobId: runner.jobId,
        workerHost: runner.host,
        workerPid: runner.pid,
        error: null,
        errorCode: null,
      },
    });
    if (started.count === 0) return false;
    await recordEvent(tx, {
      sessionId: call.sessionId,
      phase: call.phase,
      type: "call.started",
      message: `${call.role} → ${call.provider}/${call.model} (${call.callKey}, attempt ${call.attempts + 1})`,
      data: {
        callKey: call.callKey,
        provider: call.provider,
        attempt: call.attempts + 1,
        worker: `${runner.host}:${runner.pid}`,
      },
    });
    return true;
  });
}

export interface CallOutcome {
  value: unknown;
  text: string;
  usage: Usage;
  latencyMs: number;
  cost: Prisma.Decimal;
  /** False when the price table has no price for the model: the cost is then 0 and says so. */
  priced: boolean;
}

/**
 * Stores a call's result and adds its tokens and cost to the session, once: a second completion
 * of the same call (a job that ran twice) changes nothing and returns false.
 */
export async function completeCall(
  db: PrismaClient,
  call: JournaledCall,
  outcome: CallOutcome,
): Promise<boolean> {
  return db.$transaction(async (tx) => {
    const updated = await tx.modelCall.updateMany({
      where: { idempotencyKey: call.idempotencyKey, status: { not: "succeeded" } },
      data: {
        status: "succeeded",
        response: outcome.value as Prisma.InputJsonValue,
        responseText: outcome.text,
        inputTokens: { increment: outcome.usage.inputTokens },
        outputTokens: { increment: outcome.usage.outputTokens },
        costUsd: { increment: outcome.cost },
        latencyMs: Math.round(outcome.latencyMs),
        finishedAt: new Date(),
        error: null,
        errorCode: null,
      },
    });
    if (updated.count === 0) {
      // Another run of this call answered first. This answer was billed too: count it, keep the first.
      await addBilledUsage(tx, call, outcome.usage, outcome.cost);
      await recordEvent(tx, {
        sessionId: call.sessionId,
        phase: call.phase,
        type: "call.duplicate",
        message: `${call.callKey} was answered twice (a job ran twice); the second answer was billed (${outcome.usage.inputTokens}+${outcome.usage.outputTokens} tokens) and discarded`,
        data: {
          callKey: call.callKey,
          inputTokens: outcome.usage.inputTokens,
          outputTokens: outcome.usage.outputTokens,
        },
      });
      return false;
    }
    await addToSessionTotals(tx, call.sessionId, outcome.usage, outcome.cost);
    await recordEvent(tx, {
      sessionId: call.sessionId,
      phase: call.phase,
      type: "call.succeeded",
      message: `${call.provider}/${call.model} answered ${call.callKey} in ${Math.round(outcome.latencyMs)} ms (${outcome.usage.inputTokens}+${outcome.usage.outputTokens} tokens, ${outcome.priced ? `$${outcome.cost.toFixed(6)}` : "no price for this model: cost not counted, set PRICES"})`,
      data: {
        callKey: call.callKey,
        inputTokens: outcome.usage.inputTokens,
        outputTokens: outcome.usage.outputTokens,
        costUsd: outcome.cost.toString(),
        priced: outcome.priced,
        latencyMs: Math.round(outcome.latencyMs),
      },
    });
    return true;
  });
}

/**
 * Records a failed attempt. An answer that came back unusable was still billed: its usage and
 * cost count. `final` marks the call failed for good; otherwise it goes back to pending.
 */
export async function recordFailedAttempt(
  db: PrismaClient,
  call: JournaledCall,
  failure: { message: string; code: string; usage?: Usage; cost?: Prisma.Decimal; final: boolean },
): Promise<void> {
  await db.$transaction(async (tx) => {
    // A call that succeeded elsewhere meanwhile stays succeeded; a billed failure still counts.
    const updated = await tx.modelCall.updateMany({
      where: { idempotencyKey: call.idempotencyKey, status: { not: "succeeded" } },
      data: {
        status: failure.final ? "failed" : "pending",
        error: failure.message,
        errorCode: failure.code,
        finishedAt: failure.final ? new Date() : null,
      },
    });
    if (failure.usage) await addBilledUsage(tx, call, failure.usage, failure.cost);
    if (updated.count === 0) return;
    await recordEvent(tx, {
      sessionId: call.sessionId,
      phase: call.phase,
      type: failure.final ? "call.failed" : "call.retrying",
      message: `${call.provider}/${call.model} ${call.callKey}: ${failure.message}`,
      data: { callKey: call.callKey, code: failure.code },
    });
  });
}

/** Adds tokens and cost that were billed without a usable answer to the call and its session. */
async function addBilledUsage(
  tx: Prisma.TransactionClient,
  call: JournaledCall,
  usage: Usage,
  cost: Prisma.Decimal | undefined,
): Promise<void> {
  await tx.modelCall.update({
    where: { idempotencyKey: call.idempotencyKey },
    data: {
      inputTokens: { increment: usage.inputTokens },
      outputTokens: { increment: usage.outputTokens },
      costUsd: { increment: cost ?? 0 },
    },
  });
  await addToSessionTotals(tx, call.sessionId, usage, cost);
}

/** The phase's answered calls, in a stable order. */
export async function succeededCalls(db: Db, sessionId: string, phase: string) {
  return db.modelCall.findMany({
    where: { sessionId, phase, status: "succeeded" },
    orderBy: { callKey: "asc" },
  });
}

async function addToSessionTotals(
  tx: Prisma.TransactionClient,
  sessionId: string,
  usage: Usage,
  cost: Prisma.Decimal | undefined,
): Promise<void> {
  await tx.session.update({
    where: { id: sessionId },
    data: {
      inputTokens: { increment: usage.inputTokens },
      outputTokens: { increment: usage.outputTokens },
      costUsd: { increment: cost ?? 0 },
    },
  });
}
