import { readFileSync } from "node:fs";
import type { Queue } from "bullmq";
import type { Redis } from "ioredis";

const script = readFileSync(new URL("./extend-pause.lua", import.meta.url), "utf8");

/**
 * Pauses `queue` for every worker of the cluster for at least `ms` (BullMQ's `queue.rateLimit`,
 * made atomic with the check that keeps the longest pause; see extend-pause.lua). Workers must
 * have a limiter configured for BullMQ to honour the pause. Returns the pause in force.
 */
export async function pauseQueueAtLeast(redis: Redis, queue: Queue, ms: number): Promise<number> {
  const key = queue.keys.limiter as string;
  return Number(await redis.eval(script, 1, key, Math.max(1, Math.ceil(ms)), Number.MAX_SAFE_INTEGER));
}
