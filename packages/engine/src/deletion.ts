import { rm } from "node:fs/promises";
import { deleteEndedSession, isTerminalSession, readSessionRun, type SessionStatus } from "@foundry/store";
import { sessionWorkspace } from "@foundry/workspace";
import { type ControlDeps, removeRunJobs } from "./control.ts";

export interface DeletionDeps extends ControlDeps {
  /** Root of the session workspaces (`<workspaceDir>/<session id>`). */
  workspaceDir: string;
}

/** The outcome of a deletion, as a value: a refusal names the session's status. */
export type DeletionResult =
  | { ok: true }
  | { ok: false; code: "NOT_FOUND" }
  | { ok: false; code: "CONFLICT"; status: SessionStatus }
  /** A job of the session is still in flight (a cancel is still stopping it): try again shortly. */
  | { ok: false; code: "JOBS_IN_FLIGHT"; status: SessionStatus };

/**
 * Deletes a session that has ended (succeeded, failed or cancelled): its jobs of every run from the
 * queues, then its rows in Postgres, then its workspace directory. A queued or running session is
 * refused (cancel it first). Jobs go first so that nothing is left to run for a session without
 * rows; the rows are deleted only if no retry made the session active again meanwhile.
 */
export async function deleteSession(deps: DeletionDeps, sessionId: string): Promise<DeletionResult> {
  const found = await readSessionRun(deps.db, sessionId);
  if (!found) return { ok: false, code: "NOT_FOUND" };
  if (!isTerminalSession(found.status)) return { ok: false, code: "CONFLICT", status: found.status };
  for (let run = 0; run <= found.run; run++) {
    const removed = await removeRunJobs(deps, sessionId, run, { attempts: 8, intervalMs: 250 });
    if (!removed) return { ok: false, code: "JOBS_IN_FLIGHT", status: found.status };
  }
  const deleted = await deleteEndedSession(deps.db, sessionId, found.run);
  if (!deleted.deleted) {
    return deleted.status === null
      ? { ok: false, code: "NOT_FOUND" }
      : { ok: false, code: "CONFLICT", status: deleted.status };
  }
  await rm(sessionWorkspace(deps.workspaceDir, sessionId), { recursive: true, force: true });
  return { ok: true };
}
