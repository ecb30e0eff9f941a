import type { PrismaClient } from "@foundry/db";
import type { QueueSet } from "@foundry/queue";
import {
  type BreakerStore,
  type CallGate,
  PostgresBreakerStore,
  PostgresCallGate,
  PostgresSlidingWindowLimiter,
  type RateLimiter,
} from "@foundry/store";
import { RedisBreakerStore } from "./breaker/redis-breaker.ts";
import { SlidingWindowLimiter } from "./limits/rate-limit.ts";
import { RedisCallGate } from "./limits/redis-call-gate.ts";

/**
 * What the workers of a cluster share besides the queues: the rate limiter and the breakers, and the
 * gate that asks a call's breaker and the limiter in one round trip.
 */
export interface Coordination {
  limiter: RateLimiter;
  breakers: BreakerStore;
  gate: CallGate;
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
      gate: new RedisCallGate(redis, prefix),
    };
  return {
    limiter: new PostgresSlidingWindowLimiter(db),
    breakers: new PostgresBreakerStore(db),
    gate: new PostgresCallGate(db),
  };
}
