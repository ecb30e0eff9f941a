export {
  type AuditEntry,
  type AuditPage,
  type CancelResponse,
  callUsageSchema,
  type GeneratedFile,
  type RetryResponse,
  SESSION_STATUSES,
  type SessionEvent,
  type SessionPage,
  type SessionStatus,
  type SessionSummary,
  type SessionView,
  type StreamEnd,
  type SubmitResponse,
  type WorkflowDetail,
  type WorkflowIssues,
  type WorkflowList,
} from "@foundry/contract";
export {
  ApiClient,
  type ApiClientOptions,
  type FollowOptions,
  type RequestOptions,
  type SessionPoll,
  type StreamOptions,
  type SubmitInput,
  type WorkflowValidation,
} from "./client.ts";
export {
  type DevEndpoint,
  type DevEndpointSearch,
  findDevEndpoint,
  type IgnoredDevEndpoint,
  removeDevEndpoint,
  writeDevEndpoint,
} from "./dev-endpoint.ts";
export { ApiRequestError, type ApiRequestErrorCode } from "./errors.ts";
export { type ReadEventStreamOptions, readEventStream, type SseMessage } from "./sse.ts";
