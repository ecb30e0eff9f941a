export { durationEnv, EnvError, metricsEnv, parseDuration, parseEnv, sharedEnv } from "./env.ts";
export { createLogger, type Logger } from "./logger.ts";
export { onShutdown } from "./shutdown.ts";
