import { PROVIDERS, type RepairInput } from "@foundry/llm";
import { type WorkflowDefinition, workflowFromSnapshot } from "@foundry/workflow";
import { z } from "zod";
import { EngineError } from "./errors.ts";
import {
  CALL_STATUSES,
  type CallStatus,
  FAILURE_CODES,
  type FailureCode,
  PHASE_STATUSES,
  type PhaseStatus,
  SESSION_STATUSES,
  type SessionStatus,
} from "./status.ts";

// What the store reads back from Postgres is checked against what the engine writes there: status
// columns (plain text) against the status unions, JSON columns against their zod schemas, defined
// here once. A row holding anything else (edited by hand, written by another version) fails where
// it is read, naming the table, the column and the row, instead of travelling on under a cast.
// Only what a store function returns is parsed, and only as deep as its readers need: a model's
// answer (`model_calls.response`) stays JSON, checked by the output schema of whoever reads it.

/** A row read from Postgres holds a value the engine never writes there. */
export class StoredRowError extends EngineError {
  override readonly name = "StoredRowError";

  constructor(message: string, cause: unknown) {
    super(message, { code: "STORED_ROW_INVALID", isRetryable: false, failure: "internal", cause });
  }
}

/** Where a value was read: `<table>.<column>` of the row that `row` names (`id abc`). */
export interface Cell {
  table: string;
  column: string;
  row: string;
}

/** `value` parsed with `schema`; a {@link StoredRowError} naming the cell when it does not fit. */
export function parseColumn<T extends z.ZodType>(schema: T, value: unknown, cell: Cell): z.output<T> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const shown = typeof value === "string" && value.length <= 100 ? ` ${JSON.stringify(value)},` : "";
  throw new StoredRowError(
    `${cell.table}.${cell.column} of the row with ${cell.row} is${shown} not what the engine writes there: ${z.prettifyError(parsed.error)}`,
    parsed.error,
  );
}

export const sessionStatusSchema = z.enum(SESSION_STATUSES);
export const phaseStatusSchema = z.enum(PHASE_STATUSES);
export const callStatusSchema = z.enum(CALL_STATUSES);
export const failureCodeSchema = z.enum(FAILURE_CODES);

/** The providers of a role's route, in order: the first is the call's own, the rest its fallbacks. */
export const routeSchema = z.array(z.object({ provider: z.enum(PROVIDERS), model: z.string() }));

/** `model_calls.request`: the request as journaled, reused on every attempt whichever provider answers. */
export const storedRequestSchema = z.object({
  system: z.string(),
  prompt: z.string(),
  maxOutputTokens: z.number().int().positive().optional(),
  temperature: z.number().optional(),
  // Calls journaled before fallbacks existed have none: their own provider is their whole route.
  route: routeSchema.default([]),
  /** What the phase needs to interpret the answer (task id, vote item and voter). */
  meta: z.object({ task: z.string().optional(), item: z.string().optional(), voter: z.string().optional() }),
});
export type StoredRequest = z.output<typeof storedRequestSchema>;

/** `model_calls.repair`: the rejected answer the next attempt shows the model, and why (a RepairInput). */
export const repairSchema = z
  .object({ previousText: z.string(), error: z.string() })
  .nullable() satisfies z.ZodType<RepairInput | null>;

/**
 * `phase_runs.output`: a phase's result, an object whose keys later phases' templates read
 * (`{ <task id>: <answer> }`, `{ votes, tally }`, `{ files }`, `{ commits, … }`); null until it
 * finishes, and for a skipped phase. Values are left as they are (each reader checks its own).
 */
export const phaseOutputSchema = z.record(z.string(), z.unknown()).nullable();
export type PhaseOutput = z.output<typeof phaseOutputSchema>;

/** `sessions.status` of a row. */
export function sessionStatusOf(row: { id: string; status: string }): SessionStatus {
  return parseColumn(sessionStatusSchema, row.status, {
    table: "sessions",
    column: "status",
    row: `id ${row.id}`,
  });
}

/** `sessions.error_code` of a row. */
export function failureCodeOf(row: { id: string; errorCode: string | null }): FailureCode | null {
  return parseColumn(failureCodeSchema.nullable(), row.errorCode, {
    table: "sessions",
    column: "error_code",
    row: `id ${row.id}`,
  });
}

/**
 * `sessions.workflow` of a row: the workflow definition snapshotted at submission, checked by the
 * workflow file schema (a WorkflowError naming the session and "stored workflow" when it does not fit).
 */
export function sessionWorkflowOf(row: { id: string; workflow: unknown }): WorkflowDefinition {
  return workflowFromSnapshot(row.workflow, row.id);
}

const phaseRow = (row: { sessionId: string; phase: string }) =>
  `(session_id, phase) (${row.sessionId}, ${row.phase})`;

/** `phase_runs.status` of a row. */
export function phaseStatusOf(row: { sessionId: string; phase: string; status: string }): PhaseStatus {
  return parseColumn(phaseStatusSchema, row.status, {
    table: "phase_runs",
    column: "status",
    row: phaseRow(row),
  });
}

/** `phase_runs.output` of a row. */
export function phaseOutputOf(row: { sessionId: string; phase: string; output: unknown }): PhaseOutput {
  return parseColumn(phaseOutputSchema, row.output, {
    table: "phase_runs",
    column: "output",
    row: phaseRow(row),
  });
}

const callRow = (row: { idempotencyKey: string }) => `idempotency_key ${row.idempotencyKey}`;

/** `model_calls.status` of a row. */
export function callStatusOf(row: { idempotencyKey: string; status: string }): CallStatus {
  return parseColumn(callStatusSchema, row.status, {
    table: "model_calls",
    column: "status",
    row: callRow(row),
  });
}

/** `model_calls.request` of a row. */
export function storedRequestOf(row: { idempotencyKey: string; request: unknown }): StoredRequest {
  return parseColumn(storedRequestSchema, row.request, {
    table: "model_calls",
    column: "request",
    row: callRow(row),
  });
}

/** `model_calls.repair` of a row. */
export function repairOf(row: { idempotencyKey: string; repair: unknown }): RepairInput | null {
  return parseColumn(repairSchema, row.repair, { table: "model_calls", column: "repair", row: callRow(row) });
}
