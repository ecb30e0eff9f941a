export { durationEnv, EnvError, metricsEnv, parseEnv, sharedEnv } from "./env.ts";
export { createLogger, type Logger } from "./logger.ts";
export { onShutdown } from "./shutdown.ts";
