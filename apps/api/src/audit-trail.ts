import { type AuditAction, type AuditOutcome, routerPath, routes } from "@foundry/contract";
import type { Prisma, PrismaClient } from "@foundry/db";
import { pruneAudit, recordAudit } from "@foundry/store";
import type { Context, MiddlewareHandler } from "hono";
import { clientAddress } from "./login-rate-limit.ts";
import { patternParam, routePattern } from "./route-pattern.ts";

/** What a handler adds to its request's audit row (the action when it depends on the body). */
export interface AuditNote {
  action?: AuditAction;
  sessionId?: string;
  /** Small, never secret. */
  detail?: Record<string, string | number | boolean | null>;
}

declare module "hono" {
  interface ContextVariableMap {
    audit: AuditNote;
  }
}

/** Adds to the audit row of this request (see {@link AuditTrail}). */
export function noteAudit(c: Context, note: AuditNote): void {
  const previous = c.get("audit") ?? {};
  c.set("audit", { ...previous, ...note, detail: { ...previous.detail, ...note.detail } });
}

export interface AuditTrailOptions {
  db: PrismaClient;
  /** Take the client's address from `X-Forwarded-For`. @default false */
  trustProxy?: boolean;
  /** Rows older than this are deleted (checked on write, at most once an hour). @default 90 */
  retentionDays?: number;
  /** Told when a row could not be written or pruned (the action itself goes on). */
  onError: (error: Error, message: string) => void;
  /** The base path of Bull Board, whose writes are recorded as `queues.admin`. */
  boardPath?: string;
}

/** The routes whose requests are recorded, by `METHOD pattern`. */
const ACTIONS = new Map<string, AuditAction>([
  [`POST ${routerPath(routes.createSession)}`, "session.submit"],
  [`POST ${routerPath(routes.cancelSession)}`, "session.cancel"],
  [`POST ${routerPath(routes.retrySession)}`, "session.retry"],
  [`DELETE ${routerPath(routes.deleteSession)}`, "session.delete"],
  ["POST /login", "auth.sign_in"],
  ["POST /logout", "auth.sign_out"],
]);

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const PRUNE_EVERY_MS = 3_600_000;
/** A slow database may delay an action's answer this long at most; the row is still written after. */
const WRITE_WAIT_MS = 1_000;

/**
 * The audit trail: a middleware that records every request to a route that changes something —
 * submit (or publish), cancel, retry, delete, sign-in (failed ones too), sign-out and Bull Board's
 * writes — with its time, client address, route pattern, method, outcome and session, once the
 * answer is known. Requests refused before reaching their handler (no token: `denied`) are
 * recorded too. What is written is chosen field by field: never a header, a cookie, a form or a
 * body, so no token or password can reach it. A row that cannot be written is logged and the
 * action's answer goes out regardless.
 */
export class AuditTrail {
  readonly #options: AuditTrailOptions;
  #lastPrune = 0;

  constructor(options: AuditTrailOptions) {
    this.#options = options;
  }

  middleware(): MiddlewareHandler {
    return async (c, next) => {
      await next();
      const pattern = routePattern(c);
      const action = pattern ? this.#actionOf(c.req.method, pattern) : undefined;
      if (!pattern || !action) return;
      const written = this.#record(c, pattern, action).catch((error: Error) =>
        this.#options.onError(error, "could not write an audit row"),
      );
      // The row is normally there when the answer goes out; a slow database does not hold it long.
      await Promise.race([written, new Promise((resolve) => setTimeout(resolve, WRITE_WAIT_MS).unref())]);
    };
  }

  #actionOf(method: string, pattern: string): AuditAction | undefined {
    const action = ACTIONS.get(`${method} ${pattern}`);
    if (action) return action;
    const board = this.#options.boardPath;
    const isWrite = method !== "GET" && method !== "HEAD" && method !== "OPTIONS";
    return board && isWrite && pattern.startsWith(`${board}/`) ? "queues.admin" : undefined;
  }

  async #record(c: Context, pattern: string, action: AuditAction): Promise<void> {
    const note = c.get("audit") ?? {};
    const status = c.res.status;
    const code = status >= 400 ? await errorCode(c.res) : null;
    const detail: Prisma.InputJsonObject = {
      status,
      ...(code !== null && { code }),
      ...(action === "queues.admin" && { operation: `${c.req.method} ${pattern}` }),
      ...note.detail,
    };
    const fromPath = patternParam(pattern, c.req.path, "id");
    const sessionId = note.sessionId ?? (fromPath && UUID.test(fromPath) ? fromPath : null);
    await recordAudit(this.#options.db, {
      action: note.action ?? action,
      outcome: outcomeOf(status),
      route: pattern,
      method: c.req.method,
      clientAddress: clientAddress(c, this.#options.trustProxy),
      sessionId,
      detail,
    });
    this.#pruneNowAndThen();
  }

  #pruneNowAndThen(): void {
    const now = Date.now();
    if (now - this.#lastPrune < PRUNE_EVERY_MS) return;
    this.#lastPrune = now;
    const days = this.#options.retentionDays ?? 90;
    pruneAudit(this.#options.db, new Date(now - days * 86_400_000)).catch((error: Error) =>
      this.#options.onError(error, "could not prune the audit trail"),
    );
  }
}

function outcomeOf(status: number): AuditOutcome {
  if (status < 400) return "succeeded";
  if (status === 401 || status === 403) return "denied";
  return status < 500 ? "refused" : "error";
}

/** The `error.code` of a JSON error answer (UNAUTHORIZED, CONFLICT, …), or null. */
async function errorCode(response: Response): Promise<string | null> {
  if (!response.headers.get("content-type")?.includes("application/json")) return null;
  try {
    const body = (await response.clone().json()) as { error?: { code?: unknown } };
    const code = body.error?.code;
    return typeof code === "string" ? code.slice(0, 100) : null;
  } catch {
    return null;
  }
}
