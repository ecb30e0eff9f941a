export {
  chooseQueueBackend,
  describeQueueBackend,
  QUEUE_BACKENDS,
  type QueueBackend,
  type QueueBackendEnv,
  QueueBackendError,
  type QueueBackendKind,
} from "./backend.ts";
export {
  type CallJobIdColumns,
  COMPLETED_JOB_AGE_S,
  callJobId,
  callJobIdFor,
  callJobName,
  idempotencyKey,
  JOB_CATALOG,
  type JobKind,
  jobOptions,
  MAX_FINISHED_JOBS,
  type ModelCallPayload,
  modelCallPayload,
  type PhasePayload,
  phaseJobId,
  phaseJobName,
  phasePayload,
} from "./catalog.ts";
export {
  createRedis,
  type OpenQueueOptions,
  openQueueConnection,
  type QueueConnection,
  type QueueRole,
  type RedisClient,
  type WorkerSettings,
} from "./connection.ts";
export type { QueueErrorListener } from "./connection-errors.ts";
export { type LuaScript, luaScript } from "./lua.ts";
export { ORCHESTRATOR_QUEUE, QUEUE_NAMES, type QueueName } from "./names.ts";
export { FINISHED_JOB_CAP_GRACE_MS, type QueueDepth, QueueSet } from "./queue-set.ts";
export {
  checkQueueRedis,
  checkRedisDatabase,
  type RedisDatabaseCheck,
  RedisDatabaseError,
} from "./redis-database.ts";
