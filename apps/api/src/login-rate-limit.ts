import type { PrismaClient } from "@foundry/db";
import { countLoginAttempt } from "@foundry/store";
import type { Context } from "hono";

export interface LoginRateLimit {
  /** Attempts allowed per client address in one window. */
  max: number;
  /** The window, in seconds (windows are aligned on Postgres's clock). */
  windowSeconds: number;
}

export type LoginAttemptVerdict = { allowed: true } | { allowed: false; retryAfterSeconds: number };

/**
 * Sign-in attempts per client address in fixed windows, counted in Postgres so that the limit
 * holds across every API replica (see countLoginAttempt in @foundry/store). Every attempt counts, right or
 * wrong: counting before the token is checked means parallel guesses cannot slip past the limit.
 */
export class LoginRateLimiter {
  readonly #db: PrismaClient;
  readonly #limit: LoginRateLimit;

  constructor(db: PrismaClient, limit: LoginRateLimit) {
    this.#db = db;
    this.#limit = limit;
  }

  /** Counts one attempt by `client` and says whether it may go ahead. */
  async attempt(client: string): Promise<LoginAttemptVerdict> {
    const { attempts, retryAfterSeconds } = await countLoginAttempt(
      this.#db,
      client.slice(0, 100),
      this.#limit.windowSeconds,
    );
    return attempts <= this.#limit.max ? { allowed: true } : { allowed: false, retryAfterSeconds };
  }
}

/**
 * The address a request came from: the socket's peer, or with `trustProxy` the last address of
 * `X-Forwarded-For` (the one the proxy in front of the API saw; earlier ones are the client's own
 * claims). "unknown" when there is no socket (in-process requests).
 */
export function clientAddress(c: Context, trustProxy = false): string {
  if (trustProxy) {
    const forwarded = c.req.header("x-forwarded-for")?.split(",").at(-1)?.trim();
    if (forwarded) return forwarded;
  }
  const env = c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined;
  return env?.incoming?.socket?.remoteAddress ?? "unknown";
}
