import { routes, type Stats } from "@foundry/contract";
import type { PrismaClient } from "@foundry/db";
import { DEFAULT_WORKFLOW } from "@foundry/engine";
import { PROVIDERS, type ProviderName } from "@foundry/llm";
import type { QueueSet } from "@foundry/queue";
import { callsPerMinute, type RateLimit } from "@foundry/store";
import type { Hono } from "hono";
import { handle } from "../contract-route.ts";

export interface InfoRoutesDeps {
  db: PrismaClient;
  queues: QueueSet;
  /** Whether the server can publish to GitHub (GITHUB_TOKEN is set). */
  canPublish: boolean;
  /** Each provider's rate limit, as the workers have it, to draw the load against. */
  rateLimits?: Partial<Record<ProviderName, RateLimit>>;
}

/** `GET /api/info` (what a client may offer) and `GET /api/stats` (load across sessions). */
export function infoRoutes(app: Hono, deps: InfoRoutesDeps): void {
  handle(app, routes.getInfo, (c) =>
    c.json({ canPublish: deps.canPublish, defaultWorkflow: DEFAULT_WORKFLOW }),
  );

  handle(app, routes.getStats, async (c, { query }) => {
    const now = Date.now();
    const since = new Date(Math.floor(now / 60_000) * 60_000 - (query.minutes - 1) * 60_000);
    // The queue may be down while PostgreSQL is not: the call counts still come.
    const [minutes, depths] = await Promise.all([
      callsPerMinute(deps.db, since),
      deps.queues.depths().then(
        (queues) => ({ queues, error: null }),
        (error: Error) => ({ queues: null, error: `the queue could not be read: ${error.message}` }),
      ),
    ]);
    const providers = [...new Set([...PROVIDERS, ...minutes.map((row) => row.provider)])];
    const stats: Stats = {
      at: new Date(now).toISOString(),
      minutes: query.minutes,
      providers: providers.map((provider) => ({
        provider,
        rateLimit: deps.rateLimits?.[provider as ProviderName] ?? null,
        perMinute: minutes
          .filter((row) => row.provider === provider)
          .map((row) => ({
            minute: row.minute.toISOString(),
            calls: row.calls,
            requests: row.requests,
            rateLimited: row.rateLimited,
          })),
      })),
      queues: depths.queues,
      queueError: depths.error,
    };
    return c.json(stats);
  });
}
