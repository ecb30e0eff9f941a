export {
  type BreakerAdmission,
  type BreakerSettings,
  type BreakerStore,
  breakerKey,
  DEFAULT_BREAKER,
} from "./breaker/breaker.ts";
export { PostgresBreakerStore } from "./breaker/postgres-breaker.ts";
export { RedisBreakerStore } from "./breaker/redis-breaker.ts";
export { type CallJobResult, runCallJob } from "./call-runner.ts";
export {
  callJobId,
  callJobIdFor,
  idempotencyKey,
  JOB_CATALOG,
  type ModelCallPayload,
  modelCallPayload,
  type PhasePayload,
  phaseJobId,
  phasePayload,
} from "./catalog.ts";
export {
  type ControlDeps,
  type ControlResult,
  cancelSession,
  removeRunJobs,
  retrySession,
} from "./control.ts";
export { type Coordination, coordinationFor } from "./coordination.ts";
export { type DeletionDeps, type DeletionResult, deleteSession } from "./deletion.ts";
export type { EngineDeps } from "./deps.ts";
export { ABORT_REASONS, DEFAULT_DURABILITY, type DurabilitySettings } from "./durability.ts";
export { EngineError, type Infrastructure, InfrastructureError } from "./errors.ts";
export { infrastructureFault, isQueueUnavailable } from "./infrastructure.ts";
export { PostgresSlidingWindowLimiter } from "./limits/postgres-sliding-window.ts";
export {
  bullmqLimiter,
  type ProviderLimits,
  parseRateLimit,
  type RateLimit,
  type RateLimiter,
  type Reservation,
  SlidingWindowLimiter,
} from "./limits/rate-limit.ts";
export { EventFeed, type EventFeedOptions, type SessionFeedItem } from "./live/event-feed.ts";
export { type Logger, silentLogger } from "./logger.ts";
export type { CallObservation, EngineObserver } from "./observer.ts";
export { type PhaseJobResult, runPhaseJob } from "./phase-runner.ts";
export { costOf, DEFAULT_PRICES, type ModelPrice, type PriceTable } from "./pricing.ts";
export {
  DEFAULT_RECONCILER,
  type ReconcileReport,
  Reconciler,
  type ReconcilerOptions,
} from "./reconciler.ts";
export {
  CALL_STATUSES,
  FAILURE_CODES,
  type FailureCode,
  isTerminalSession,
  PHASE_STATUSES,
  SESSION_STATUSES,
  type SessionStatus,
} from "./status.ts";
export {
  type AuditRecord,
  listAudit,
  type NewAuditEntry,
  pruneAudit,
  recordAudit,
} from "./store/audit-log.ts";
export { EVENTS_CHANNEL, type EventType, recordEvent } from "./store/events.ts";
export { listSessionFiles, readSessionFile, type SessionFileContent } from "./store/files.ts";
export { type CacheSettings, DEFAULT_CACHE, pruneCache } from "./store/response-cache.ts";
export { countSessionsByStatus } from "./store/session-counts.ts";
export { sessionVersion } from "./store/session-version.ts";
export { insertSession, type NewSession } from "./store/sessions.ts";
export { callsPerMinute, type ProviderMinuteCount } from "./store/stats.ts";
export {
  getSessionSummary,
  getSessionView,
  listEvents,
  listSessions,
  type SessionRecord,
  type SessionView,
} from "./store/views.ts";
export { buildFlow, DEFAULT_WORKFLOW, EnqueueError, type SubmitRequest, submitSession } from "./submit.ts";
export { startWorkers, type WorkerPool, type WorkerPoolOptions } from "./workers.ts";
export { workflowDetail, workflowSummary } from "./workflow-view.ts";
export { openSessionArchive, type SessionArchive } from "./workspace/archive.ts";
export { GIT_PUSH_ENV_VARS, type GitHubSettings, PublishError } from "./workspace/github.ts";
export { checkFiles, checkGeneratedPath, DEFAULT_FILE_LIMITS, type FileLimits } from "./workspace/paths.ts";
export { sessionWorkspace } from "./workspace/write.ts";
