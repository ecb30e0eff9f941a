export {
  type AuditRecord,
  listAudit,
  type NewAuditEntry,
  pruneAudit,
  recordAudit,
} from "./audit-log.ts";
export type { BreakerAdmission, BreakerSettings, BreakerStore, BreakerTransition } from "./breaker-store.ts";
export type { CallGate, GateAdmission, LimitRequest } from "./call-gate.ts";
export { answeredCallModels, lastCallError, readCallState } from "./calls.ts";
export { type PhaseOutput, StoredRowError } from "./columns.ts";
export { EngineError, type Infrastructure, InfrastructureError } from "./errors.ts";
export {
  EventHorizon,
  lastDrawnEventId,
  readEventsBetween,
  readSessionEventsAndStatus,
} from "./event-log.ts";
export { EVENTS_CHANNEL, type EventType, recordEvent, recordEvents } from "./events.ts";
export {
  listGeneratedFiles,
  listSessionFiles,
  type NewGeneratedFile,
  readArchiveFacts,
  readGeneratedFileContents,
  readSessionFile,
  replaceGeneratedFiles,
  type SessionFileContent,
} from "./files.ts";
export {
  type AnsweredCall,
  claimCall,
  completeCall,
  completeFromCache,
  endUnclaimedCall,
  ensureCalls,
  getCallForRun,
  type JournaledCall,
  type PendingCall,
  type PhaseCall,
  type PlannedCall,
  pruneSpend,
  recordFailedAttempt,
  releaseLease,
  renewLease,
  rerouteCall,
  SPEND_KEPT_MS,
  splitPhaseCalls,
  succeededCalls,
  waitForPendingCalls,
} from "./journal.ts";
export { releaseLeaderLease, takeLeaderLease } from "./leader-lease.ts";
export {
  countLoginAttempt,
  deleteLoginSession,
  insertLoginSession,
  loginSessionExpiry,
  pingDatabase,
} from "./logins.ts";
export {
  finishPhaseRun,
  type KnownSession,
  type PhaseStart,
  type SessionForRun,
  startPhaseRun,
} from "./phase-runs.ts";
export { PostgresBreakerStore } from "./postgres-breaker.ts";
export { PostgresCallGate } from "./postgres-call-gate.ts";
export { PostgresSlidingWindowLimiter } from "./postgres-sliding-window.ts";
export {
  type ProviderLimits,
  type RateLimit,
  type RateLimiter,
  type Reservation,
  WINDOW_MARGIN_MS,
} from "./rate-limiter.ts";
export { listActiveSessions, listPhaseStatuses, listUnansweredCalls } from "./reconcile.ts";
export {
  type CacheSettings,
  cacheKey,
  DEFAULT_CACHE,
  findCachedResponse,
  saveCachedResponse,
} from "./response-cache.ts";
export { countSessionsByStatus } from "./session-counts.ts";
export { deleteEndedSession, readSessionRun } from "./session-deletion.ts";
export { sessionVersion } from "./session-version.ts";
export {
  CANCEL_CHANNEL,
  failSession,
  getSessionWorkflow,
  insertSession,
  markCancelled,
  markRequeued,
  markRetried,
  type NewSession,
  sessionHasEnded,
  setSessionRepository,
} from "./sessions.ts";
export { callsPerMinute, type ProviderMinuteCount } from "./stats.ts";
export {
  CALL_STATUSES,
  type CallStatus,
  FAILURE_CODES,
  type FailureCode,
  FINISHED_PHASE_STATUSES,
  isTerminalSession,
  PHASE_STATUSES,
  type PhaseStatus,
  SESSION_STATUSES,
  type SessionStatus,
} from "./status.ts";
export {
  getSessionSummary,
  getSessionView,
  listEvents,
  listSessions,
  type SessionRecord,
  type SessionView,
} from "./views.ts";
export { type NewVote, storeVotes } from "./votes.ts";
