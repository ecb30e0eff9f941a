// Every scenario, in the order they run.
import type { Scenario } from "../scenario.ts";
import { apiKill } from "./api-kill.ts";
import { postgresDown } from "./postgres-down.ts";
import { quota429 } from "./quota.ts";
import { rateLimitStorm } from "./rate-limit-storm.ts";
import { redisFlushall } from "./redis-flushall.ts";
import { redisRestart } from "./redis-restart.ts";
import { serverErrors } from "./server-errors.ts";
import { timeouts } from "./timeouts.ts";
import { userCancel } from "./user-cancel.ts";
import { workerKill } from "./worker-kill.ts";

export const SCENARIOS: readonly Scenario[] = [
  workerKill,
  redisFlushall,
  redisRestart,
  postgresDown(10, ["quick"]),
  postgresDown(30, ["full"]),
  postgresDown(120, ["full"]),
  rateLimitStorm(true, ["full", "quick"]),
  rateLimitStorm(false, ["full"]),
  quota429("openai"),
  quota429("all"),
  serverErrors,
  timeouts,
  userCancel,
  apiKill,
];
