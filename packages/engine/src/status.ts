// Status values stored as text in Postgres. Terminal states never change again.

export const SESSION_STATUSES = ["queued", "running", "succeeded", "failed", "cancelled"] as const;
export type SessionStatus = (typeof SESSION_STATUSES)[number];
export const TERMINAL_SESSION_STATUSES: readonly SessionStatus[] = ["succeeded", "failed", "cancelled"];

export const PHASE_STATUSES = ["pending", "running", "waiting", "succeeded", "skipped", "failed"] as const;
export type PhaseStatus = (typeof PHASE_STATUSES)[number];

export const CALL_STATUSES = ["pending", "running", "succeeded", "failed"] as const;
export type CallStatus = (typeof CALL_STATUSES)[number];

export function isTerminalSession(status: string): boolean {
  return (TERMINAL_SESSION_STATUSES as readonly string[]).includes(status);
}
