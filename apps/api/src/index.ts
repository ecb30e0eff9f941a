export { type AppDeps, createApp } from "./app.ts";
export type { LoginRateLimit } from "./login-rate-limit.ts";
