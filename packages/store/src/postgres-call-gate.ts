import { type PrismaClient, queryRows } from "@foundry/db";
import type { BreakerSettings } from "./breaker-store.ts";
import type { CallGate, GateAdmission, LimitRequest } from "./call-gate.ts";
import { admissionOf, type BreakerRow, breakerAdmissionSql } from "./postgres-breaker.ts";
import { rateAcquireSql } from "./postgres-sliding-window.ts";
import { WINDOW_MARGIN_MS } from "./rate-limiter.ts";

/**
 * A call's breaker admission and limiter acquisition in one statement: PostgresBreakerStore's
 * admission, which calls `foundry_rate_acquire` (PostgresSlidingWindowLimiter's) only when the
 * breaker lets the call go.
 */
export class PostgresCallGate implements CallGate {
  readonly #db: PrismaClient;
  readonly #marginMs: number;

  constructor(db: PrismaClient, options: { marginMs?: number } = {}) {
    this.#db = db;
    this.#marginMs = options.marginMs ?? WINDOW_MARGIN_MS;
  }

  async admit(
    breaker: { key: string; settings: BreakerSettings },
    limit: LimitRequest | null,
  ): Promise<GateAdmission> {
    const acquire = limit && rateAcquireSql(limit.name, limit.limits, limit.reservation, this.#marginMs);
    // `gated` is the wait, a bigint: text through queryRows.
    const [row] = await queryRows<BreakerRow & { gated: string | null }>(
      this.#db,
      breakerAdmissionSql(breaker.key, breaker.settings, acquire),
    );
    return { breaker: admissionOf(row, breaker.settings), wait: Number(row?.gated ?? 0) };
  }
}
