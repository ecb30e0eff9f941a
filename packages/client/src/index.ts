export {
  callUsageSchema,
  type SessionEvent,
  type SessionPage,
  type SessionSummary,
  type SessionView,
  type SubmitResponse,
  type WorkflowList,
} from "./api-schemas.ts";
export {
  ApiClient,
  type ApiClientOptions,
  type FollowOptions,
  type RequestOptions,
  type SubmitInput,
} from "./client.ts";
export { ApiRequestError, type ApiRequestErrorCode } from "./errors.ts";
