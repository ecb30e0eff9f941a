import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { FoundryMetrics } from "./metrics.ts";

export interface MetricsServerOptions {
  metrics: FoundryMetrics;
  /** 0 picks a free port (see {@link MetricsServer.port}). */
  port: number;
  /** @default "127.0.0.1": the metrics have no authentication, so they stay local unless told otherwise. */
  host?: string;
  /** Told when a scrape fails (it is answered 500). */
  onError?: (error: Error) => void;
}

export interface MetricsServer {
  /** The port it listens on. */
  readonly port: number;
  readonly host: string;
  close(): Promise<void>;
}

/**
 * Serves `GET /metrics` (Prometheus text format) on its own port, without authentication: for the
 * workers, which have no other HTTP server, and for an API whose scraper should not hold its token
 * (METRICS_PORT). Anything else is a 404; other methods than GET and HEAD a 405.
 */
export async function serveMetrics(options: MetricsServerOptions): Promise<MetricsServer> {
  const host = options.host ?? "127.0.0.1";
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? "/").split("?")[0];
    if (path !== "/metrics") {
      response
        .writeHead(404, { "content-type": "text/plain; charset=utf-8" })
        .end("not found: try /metrics\n");
      return;
    }
    if (request.method !== "GET" && request.method !== "HEAD") {
      response.writeHead(405, { allow: "GET, HEAD" }).end();
      return;
    }
    options.metrics.text().then(
      (text) => {
        response.writeHead(200, { "content-type": options.metrics.contentType, "cache-control": "no-store" });
        response.end(request.method === "HEAD" ? undefined : text);
      },
      (error: Error) => {
        options.onError?.(error);
        response.writeHead(500, { "content-type": "text/plain; charset=utf-8" }).end("metrics unavailable\n");
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    port,
    host,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
