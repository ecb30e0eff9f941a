import { randomUUID } from "node:crypto";
import type { PrismaClient } from "@foundry/db";
import { type ProviderLimits, type RateLimiter, type Reservation, WINDOW_MARGIN_MS } from "./rate-limiter.ts";

interface Admission {
  admitted_ms: bigint;
  counts_request: boolean;
  tokens: number;
}

/**
 * The same sliding windows as the engine's limits/sliding-window.lua, in PostgreSQL
 * (`rate_admissions`) for clusters whose queues run there. One transaction per admission, serialized
 * per limit name by an advisory lock, so no two workers can both see room for the last request; the
 * clock is the database's, so every worker sees the same time.
 */
export class PostgresSlidingWindowLimiter implements RateLimiter {
  readonly #db: PrismaClient;
  readonly #marginMs: number;

  constructor(db: PrismaClient, options: { marginMs?: number } = {}) {
    this.#db = db;
    this.#marginMs = options.marginMs ?? WINDOW_MARGIN_MS;
  }

  async acquire(
    name: string,
    limits: ProviderLimits,
    reservation: Reservation = { id: randomUUID(), tokens: 0 },
  ): Promise<number> {
    const { requests, tokens } = limits;
    if (!requests && !tokens) return 0;
    const requestWindow = requests ? requests.windowMs + this.#marginMs : 0;
    const tokenWindow = tokens ? tokens.windowMs + this.#marginMs : 0;
    const need = Math.min(Math.max(0, Math.ceil(reservation.tokens)), tokens?.max ?? 0);
    return this.#db.$transaction(async (tx) => {
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${`foundry:rate:${name}`}))`;
      const [clock] = await tx.$queryRaw<Array<{ now: bigint }>>`
        SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint AS now`;
      const now = Number(clock?.now);
      // Rows gone from both windows are deleted; the rest are what the windows hold.
      const held = await tx.$queryRaw<Admission[]>`
        WITH expired AS (
          DELETE FROM rate_admissions WHERE name = ${name} AND expires_ms <= ${now}
        )
        SELECT admitted_ms, counts_request, tokens FROM rate_admissions
        WHERE name = ${name} AND expires_ms > ${now} ORDER BY admitted_ms, id`;
      const wait = Math.max(
        requests ? requestWait(held, now, requests.max, requestWindow) : 0,
        tokens ? tokenWait(held, now, tokens.max, tokenWindow, need) : 0,
      );
      if (wait > 0) return wait;
      await tx.$executeRaw`
        INSERT INTO rate_admissions (name, id, admitted_ms, expires_ms, counts_request, tokens)
        VALUES (${name}, ${reservation.id}, ${now}, ${now + Math.max(requestWindow, tokenWindow)},
          ${requests !== undefined}, ${tokens ? need : 0})`;
      return 0;
    });
  }

  async settle(name: string, id: string, tokensUsed: number): Promise<boolean> {
    const updated = await this.#db.$executeRaw`
      UPDATE rate_admissions SET tokens = ${Math.max(0, Math.ceil(tokensUsed))}
      WHERE name = ${name} AND id = ${id}
        AND expires_ms > (extract(epoch FROM clock_timestamp()) * 1000)::bigint`;
    return updated === 1;
  }
}

/** Ms until the oldest counted request leaves the window, when the window is full; else 0. */
function requestWait(held: Admission[], now: number, max: number, windowMs: number): number {
  const inWindow = held.filter((row) => row.counts_request && Number(row.admitted_ms) > now - windowMs);
  if (inWindow.length < max) return 0;
  return Math.max(1, Number((inWindow[0] as Admission).admitted_ms) + windowMs - now);
}

/** Ms until enough of the oldest reservations leave the window for `need` more tokens; else 0. */
function tokenWait(held: Admission[], now: number, max: number, windowMs: number, need: number): number {
  const inWindow = held.filter((row) => Number(row.admitted_ms) > now - windowMs && row.tokens > 0);
  const used = inWindow.reduce((sum, row) => sum + row.tokens, 0);
  if (used + need <= max) return 0;
  let freed = 0;
  for (const row of inWindow) {
    freed += row.tokens;
    if (used - freed + need <= max) return Math.max(1, Number(row.admitted_ms) + windowMs - now);
  }
  return windowMs;
}
