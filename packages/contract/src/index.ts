export {
  type AuditAction,
  type AuditEntry,
  type AuditOutcome,
  type AuditPage,
  auditEntrySchema,
  auditPageSchema,
} from "./audit.ts";
export { type ErrorBody, errorSchema, eventId } from "./common.ts";
export {
  callUsageSchema,
  type EventPage,
  eventPageSchema,
  type SessionEvent,
  type StreamEnd,
  sessionEventSchema,
  streamEndSchema,
} from "./events.ts";
export { createOpenApiDocument, type OpenApiDocument, type OpenApiOptions } from "./openapi.ts";
export { type HttpMethod, type ResponseContract, type RouteContract, routerPath } from "./route.ts";
export { type Routes, routes } from "./routes.ts";
export {
  type CancelResponse,
  type CreateSession,
  cancelResponseSchema,
  type FileList,
  fileListSchema,
  type GeneratedFile,
  type RetryResponse,
  retryResponseSchema,
  type SessionLinks,
  type SessionPage,
  type SessionSummary,
  type SessionView,
  type SubmitResponse,
  sessionLinks,
  sessionPageSchema,
  sessionSummarySchema,
  sessionViewSchema,
  submitResponseSchema,
} from "./sessions.ts";
export { type Info, infoSchema, type QueueDepth, type Stats, statsSchema } from "./stats.ts";
export {
  CALL_STATUSES,
  type CallStatus,
  FAILURE_CODES,
  type FailureCode,
  isTerminalSession,
  PHASE_KINDS,
  PHASE_STATUSES,
  type PhaseKind,
  type PhaseStatus,
  SESSION_STATUSES,
  type SessionStatus,
  TERMINAL_SESSION_STATUSES,
} from "./statuses.ts";
export {
  type ValidateWorkflow,
  type ValidWorkflow,
  validWorkflowSchema,
  type WorkflowDetail,
  type WorkflowIssues,
  type WorkflowList,
  type WorkflowPhase,
  type WorkflowSummary,
  workflowDetailSchema,
  workflowIssuesSchema,
  workflowListSchema,
} from "./workflows.ts";
