import type { PrismaClient } from "@foundry/db";
import type { QueueSet } from "@foundry/queue";
import {
  type BreakerStore,
  PostgresBreakerStore,
  PostgresSlidingWindowLimiter,
  type RateLimiter,
} from "@foundry/store";
import { RedisBreakerStore } from "./breaker/redis-breaker.ts";
import { SlidingWindowLimiter } from "./limits/rate-limit.ts";

/** What the workers of a cluster share besides the queues: the rate limiter and the breakers. */
export interface Coordination {
  limiter: RateLimiter;
  breakers: BreakerStore;
}

/**
 * The limiter and breakers in the store the queues run on: Redis scripts under the queues' prefix
 * (so a Redis Cluster hash tag keeps them in one slot), or tables in PostgreSQL. Nothing above
 * this needs to know which.
 */
export function coordinationFor(queues: QueueSet, db: PrismaClient): Coordination {
  const { redis, prefix } = queues.connection;
  if (redis)
    return {
      limiter: new SlidingWindowLimiter(redis, prefix),
      breakers: new RedisBreakerStore(redis, prefix),
    };
  return { limiter: new PostgresSlidingWindowLimiter(db), breakers: new PostgresBreakerStore(db) };
}
