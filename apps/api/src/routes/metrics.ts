import { routes } from "@foundry/contract";
import type { FoundryMetrics } from "@foundry/metrics";
import type { Hono } from "hono";
import { handle } from "../contract-route.ts";

/** `GET /metrics`: this process's metrics in Prometheus's text format (behind the token). */
export function metricsRoutes(app: Hono, metrics: FoundryMetrics): void {
  handle(app, routes.getMetrics, async () => {
    const text = await metrics.text();
    return new Response(text, {
      headers: { "content-type": metrics.contentType, "cache-control": "no-store" },
    });
  });
}
