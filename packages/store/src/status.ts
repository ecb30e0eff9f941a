// Status values stored as text in Postgres. They are part of the API's contract, which defines them
// once (@foundry/contract); the store re-exports them, plus what only the engine needs.
import type { PhaseStatus } from "@foundry/contract";

export {
  CALL_STATUSES,
  type CallStatus,
  FAILURE_CODES,
  type FailureCode,
  isTerminalSession,
  PHASE_STATUSES,
  type PhaseStatus,
  SESSION_STATUSES,
  type SessionStatus,
} from "@foundry/contract";

/** A phase in one of these is done for good: a re-run returns its stored result. */
export const FINISHED_PHASE_STATUSES: readonly PhaseStatus[] = ["succeeded", "skipped"];
