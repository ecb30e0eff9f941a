export { type AppDeps, apiMetrics, createApp, DEFAULT_LOGIN_RATE_LIMIT } from "./app.ts";
export type { LoginRateLimit } from "./login-rate-limit.ts";
