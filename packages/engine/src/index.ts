export type { BreakerAdmission, BreakerSettings, BreakerStore } from "./breaker/breaker.ts";
export { callJobId, JOB_CATALOG, type ModelCallPayload, phaseJobId } from "./catalog.ts";
export { type ControlResult, cancelSession, retrySession } from "./control.ts";
export { type Coordination, coordinationFor } from "./coordination.ts";
export { type DeletionDeps, type DeletionResult, deleteSession } from "./deletion.ts";
export type { EngineDeps } from "./deps.ts";
export type { DurabilitySettings } from "./durability.ts";
export { EngineError, type Infrastructure, InfrastructureError } from "./errors.ts";
export { infrastructureFault } from "./infrastructure.ts";
export {
  type ProviderLimits,
  parseRateLimit,
  type RateLimit,
  type RateLimiter,
  type Reservation,
} from "./limits/rate-limit.ts";
export { EventFeed, type EventFeedOptions, type SessionFeedItem } from "./live/event-feed.ts";
export { type Logger, silentLogger } from "./logger.ts";
export type { CallObservation, EngineObserver } from "./observer.ts";
export { DEFAULT_PRICES, type ModelPrice, type PriceTable } from "./pricing.ts";
export { type ReconcileReport, Reconciler, type ReconcilerOptions } from "./reconciler.ts";
export { isTerminalSession, SESSION_STATUSES } from "./status.ts";
export {
  type AuditRecord,
  listAudit,
  type NewAuditEntry,
  pruneAudit,
  recordAudit,
} from "./store/audit-log.ts";
export { type EventType, recordEvent } from "./store/events.ts";
export { listSessionFiles, readSessionFile, type SessionFileContent } from "./store/files.ts";
export type { CacheSettings } from "./store/response-cache.ts";
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
export { DEFAULT_WORKFLOW, EnqueueError, type SubmitRequest, submitSession } from "./submit.ts";
export { startWorkers, type WorkerPool, type WorkerPoolOptions } from "./workers.ts";
export { workflowDetail, workflowSummary } from "./workflow-view.ts";
export { openSessionArchive, type SessionArchive } from "./workspace/archive.ts";
export { GIT_PUSH_ENV_VARS, type GitHubSettings, PublishError } from "./workspace/github.ts";
export { DEFAULT_FILE_LIMITS, type FileLimits } from "./workspace/paths.ts";
export { sessionWorkspace } from "./workspace/write.ts";
