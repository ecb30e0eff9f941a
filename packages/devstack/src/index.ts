export type { EmbeddedPostgresOptions, LocalPostgres } from "./embedded-postgres.ts";
export { startEmbeddedPostgres } from "./embedded-postgres.ts";
export type { DevstackErrorCode } from "./errors.ts";
export {
  DataDirInUseError,
  DevstackError,
  PostgresBinariesError,
  RedisNotFoundError,
  ServerStartError,
} from "./errors.ts";
export type { FindRedisServerOptions } from "./find-redis-server.ts";
export { COMMON_REDIS_DIRS, findRedisServer } from "./find-redis-server.ts";
export { freePort } from "./free-port.ts";
export type { LocalRedis, PrivateRedisOptions } from "./private-redis.ts";
export { startPrivateRedis } from "./private-redis.ts";
export type { ShutdownHandle, ShutdownOptions } from "./shutdown.ts";
export { installShutdownHandlers } from "./shutdown.ts";
