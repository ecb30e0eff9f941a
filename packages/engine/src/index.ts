// What comes from @foundry/queue, @foundry/store and @foundry/workspace is re-exported for callers
// that import it through the engine; new code imports it from the package that owns it.

export { callJobId, JOB_CATALOG, type ModelCallPayload, phaseJobId } from "@foundry/queue";
export {
  type AuditRecord,
  type BreakerAdmission,
  type BreakerSettings,
  type BreakerStore,
  type CacheSettings,
  callsPerMinute,
  countSessionsByStatus,
  EngineError,
  type EventType,
  getSessionSummary,
  getSessionView,
  type Infrastructure,
  InfrastructureError,
  insertSession,
  isTerminalSession,
  listAudit,
  listEvents,
  listSessionFiles,
  listSessions,
  type NewAuditEntry,
  type NewSession,
  type ProviderLimits,
  type ProviderMinuteCount,
  pruneAudit,
  type RateLimit,
  type RateLimiter,
  type Reservation,
  readSessionFile,
  recordAudit,
  recordEvent,
  SESSION_STATUSES,
  type SessionFileContent,
  type SessionRecord,
  type SessionView,
  sessionVersion,
} from "@foundry/store";
export {
  DEFAULT_FILE_LIMITS,
  type FileLimits,
  GIT_PUSH_ENV_VARS,
  type GitHubSettings,
  openSessionArchive,
  PublishError,
  type SessionArchive,
  sessionWorkspace,
} from "@foundry/workspace";
export { type ControlResult, cancelSession, retrySession } from "./control.ts";
export { type Coordination, coordinationFor } from "./coordination.ts";
export { type DeletionDeps, type DeletionResult, deleteSession } from "./deletion.ts";
export type { EngineDeps } from "./deps.ts";
export type { DurabilitySettings } from "./durability.ts";
export { infrastructureFault } from "./infrastructure.ts";
export { parseRateLimit } from "./limits/rate-limit.ts";
export { EventFeed, type EventFeedOptions, type SessionFeedItem } from "./live/event-feed.ts";
export { type Logger, silentLogger } from "./logger.ts";
export type { CallObservation, EngineObserver } from "./observer.ts";
export { DEFAULT_PRICES, type ModelPrice, type PriceTable } from "./pricing.ts";
export { type ReconcileReport, Reconciler, type ReconcilerOptions } from "./reconciler.ts";
export { DEFAULT_WORKFLOW, EnqueueError, type SubmitRequest, submitSession } from "./submit.ts";
export { type JobActivity, startWorkers, type WorkerPool, type WorkerPoolOptions } from "./workers.ts";
export { workflowDetail, workflowSummary } from "./workflow-view.ts";
