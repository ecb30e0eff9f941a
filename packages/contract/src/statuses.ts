// Status values as the API sends them (and as Postgres stores them, as plain text). Terminal states
// never change again, except that a person may retry a failed or cancelled session.

export const SESSION_STATUSES = [
  "queued",
  "running",
  "succeeded",
  "failed",
  "cancelled",
  "budget_exceeded",
] as const;
export type SessionStatus = (typeof SESSION_STATUSES)[number];
/** A session in one of these has ended (until a person retries it). */
export const TERMINAL_SESSION_STATUSES: readonly SessionStatus[] = [
  "succeeded",
  "failed",
  "cancelled",
  "budget_exceeded",
];

export const PHASE_STATUSES = [
  "pending",
  "running",
  "waiting",
  "succeeded",
  "skipped",
  "failed",
  "cancelled",
] as const;
export type PhaseStatus = (typeof PHASE_STATUSES)[number];

export const PHASE_KINDS = ["generate", "vote", "files", "git"] as const;
export type PhaseKind = (typeof PHASE_KINDS)[number];

export const CALL_STATUSES = ["pending", "running", "succeeded", "failed", "cancelled"] as const;
export type CallStatus = (typeof CALL_STATUSES)[number];

/**
 * Why a session failed, as a stable word a client can switch on:
 * - `provider`: a model provider kept failing (5xx, timeouts, 429s past their bound, refused keys).
 * - `quota`: a provider's quota or billing is exhausted.
 * - `output`: a model's answer was unusable (bad structure, refused files).
 * - `database` / `queue`: PostgreSQL or the job queue stayed unavailable past the bound.
 * - `deadline`: no progress within SESSION_TIMEOUT.
 * - `cancelled`: a person cancelled it.
 * - `budget`: its next call would have crossed its budget (its status is then `budget_exceeded`).
 * - `config`: the deployment cannot run it (no key for a provider, publishing without a token).
 * - `internal`: anything else (a bug: see the worker's log).
 */
export const FAILURE_CODES = [
  "provider",
  "quota",
  "output",
  "database",
  "queue",
  "deadline",
  "cancelled",
  "budget",
  "config",
  "internal",
] as const;
export type FailureCode = (typeof FAILURE_CODES)[number];

/** Whether `status` is one of a session's final states. */
export function isTerminalSession(status: string): boolean {
  return (TERMINAL_SESSION_STATUSES as readonly string[]).includes(status);
}
