export {
  FoundryMetrics,
  type HttpObservation,
  type JobCountSource,
  type MetricsOptions,
} from "./metrics.ts";
export { type MetricsServer, type MetricsServerOptions, serveMetrics } from "./metrics-server.ts";
