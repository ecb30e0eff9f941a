import type { EngineObserver } from "@foundry/engine";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

/** What a queue must offer to have its job counts exported (a BullMQ `Queue` does). */
export interface JobCountSource {
  readonly name: string;
  getJobCounts(): Promise<Record<string, number>>;
}

export interface MetricsOptions {
  /** Labels added to every series, e.g. `{ service: "api" }`. @default none */
  defaultLabels?: Record<string, string>;
  /** Node's process metrics (CPU, memory, event-loop lag, GC), prefixed `foundry_process_`. @default false */
  processMetrics?: boolean;
  /**
   * Sessions by status, read at scrape time (one cheap `GROUP BY` in production). Statuses listed
   * in `sessionStatuses` are always exported, as 0 when there are none.
   */
  sessionCounts?: () => Promise<Record<string, number>>;
  /** @default [] */
  sessionStatuses?: readonly string[];
  /** Queues whose job counts (by state) are read at scrape time. @default [] */
  queues?: readonly JobCountSource[];
  /** The worker's idle memory trims (`observeMemoryTrim`), where the process runs them. @default false */
  memoryTrims?: boolean;
  /** A collector that fails or takes longer than this leaves its series out of the scrape. @default 2000 */
  collectTimeoutMs?: number;
  /** Told when a collector fails; the scrape goes on without that metric. */
  onCollectError?: (error: Error, collector: string) => void;
}

/** One HTTP request as the API's middleware saw it. */
export interface HttpObservation {
  method: string;
  /** The route pattern (`/api/sessions/:id`), never the raw path: label values must stay few. */
  route: string;
  status: number;
  durationMs: number;
}

// Seconds. HTTP answers are mostly milliseconds; model calls take seconds to minutes.
const HTTP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const CALL_BUCKETS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300];
const WAIT_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/**
 * The metrics of one process, in their own registry (never prom-client's global one, so that
 * several apps or tests in one process do not mix their series). The API feeds it HTTP requests,
 * the workers the engine's observations through {@link FoundryMetrics.observer}; gauges of the
 * whole system (sessions by status, queue depths) are read when Prometheus scrapes.
 *
 * @example
 * const metrics = new FoundryMetrics({ defaultLabels: { service: "worker" }, queues: queues.all() });
 * startWorkers({ deps: { ...deps, observe: metrics.observer }, ... });
 * const text = await metrics.text();
 */
export class FoundryMetrics {
  readonly registry = new Registry();
  /** Feeds model calls, 429 pauses, limiter waits, breakers and phases into the metrics. */
  readonly observer: EngineObserver;
  readonly #httpRequests: Counter<"method" | "route" | "status">;
  readonly #httpDuration: Histogram<"method" | "route" | "status">;
  readonly #memoryTrims: { count: Counter; seconds: Counter; freed: Counter } | null = null;

  constructor(options: MetricsOptions = {}) {
    const registers = [this.registry];
    if (options.defaultLabels) this.registry.setDefaultLabels(options.defaultLabels);
    const timeoutMs = options.collectTimeoutMs ?? 2_000;
    const collected = async <T>(collector: string, read: () => Promise<T>): Promise<T | null> => {
      try {
        return await withTimeout(read(), timeoutMs);
      } catch (error) {
        options.onCollectError?.(error as Error, collector);
        return null;
      }
    };

    this.#httpRequests = new Counter({
      name: "foundry_http_requests_total",
      help: "HTTP requests answered, by method, route pattern and status.",
      labelNames: ["method", "route", "status"],
      registers,
    });
    this.#httpDuration = new Histogram({
      name: "foundry_http_request_duration_seconds",
      help: "Time to answer an HTTP request (to the first byte of a stream), by method, route pattern and status.",
      labelNames: ["method", "route", "status"],
      buckets: HTTP_BUCKETS,
      registers,
    });

    const calls = new Counter({
      name: "foundry_model_calls_total",
      help: "Model calls settled, by provider, model and outcome (succeeded, late, failed, cached, reused).",
      labelNames: ["provider", "model", "outcome"],
      registers,
    });
    const callDuration = new Histogram({
      name: "foundry_model_call_duration_seconds",
      help: "Latency of provider requests, by provider, model and outcome.",
      labelNames: ["provider", "model", "outcome"],
      buckets: CALL_BUCKETS,
      registers,
    });
    const callFailures = new Counter({
      name: "foundry_model_call_failures_total",
      help: "Failed provider requests, by provider, model and error code (rate_limited, server_error, timeout, …).",
      labelNames: ["provider", "model", "code"],
      registers,
    });
    const tokens = new Counter({
      name: "foundry_tokens_total",
      help: "Tokens billed by the providers, by provider, model and kind (input, output).",
      labelNames: ["provider", "model", "kind"],
      registers,
    });
    const cost = new Counter({
      name: "foundry_cost_usd_total",
      help: "What the model calls cost, in US dollars, by provider and model.",
      labelNames: ["provider", "model"],
      registers,
    });
    const limiterWaits = new Counter({
      name: "foundry_rate_limit_waits_total",
      help: "Calls held back by the cluster-wide rate limiter before sending, by provider.",
      labelNames: ["provider"],
      registers,
    });
    const limiterWaitSeconds = new Histogram({
      name: "foundry_rate_limit_wait_seconds",
      help: "How long the cluster-wide rate limiter held a call back, by provider.",
      labelNames: ["provider"],
      buckets: WAIT_BUCKETS,
      registers,
    });
    const pauses = new Counter({
      name: "foundry_rate_limit_pauses_total",
      help: "Provider queues paused for every replica after a 429 (set or extended), by provider.",
      labelNames: ["provider"],
      registers,
    });
    const pauseSeconds = new Counter({
      name: "foundry_rate_limit_pause_seconds_total",
      help: "Length of the 429 pauses set or extended, in seconds, by provider.",
      labelNames: ["provider"],
      registers,
    });
    const breakers = new Counter({
      name: "foundry_breaker_transitions_total",
      help: "Circuit breakers opened or closed, by provider, model and new state.",
      labelNames: ["provider", "model", "state"],
      registers,
    });
    const phaseSteps = new Counter({
      name: "foundry_phase_steps_total",
      help: "Phase job steps, by phase and outcome (succeeded, skipped, waiting for its calls, failed).",
      labelNames: ["phase", "outcome"],
      registers,
    });
    const phaseDuration = new Histogram({
      name: "foundry_phase_step_duration_seconds",
      help: "Time a phase job step ran (not the time it waited for its calls), by phase and outcome.",
      labelNames: ["phase", "outcome"],
      buckets: HTTP_BUCKETS,
      registers,
    });

    if (options.memoryTrims) {
      this.#memoryTrims = {
        count: new Counter({
          name: "foundry_memory_trims_total",
          help: "Memory-reducing collections run after the worker had been idle (IDLE_TRIM_MS).",
          registers,
        }),
        seconds: new Counter({
          name: "foundry_memory_trim_seconds_total",
          help: "Time those collections took.",
          registers,
        }),
        freed: new Counter({
          name: "foundry_memory_trim_freed_bytes_total",
          help: "Resident memory those collections gave back.",
          registers,
        }),
      };
    }

    this.observer = {
      call(event) {
        const labels = { provider: event.provider, model: event.model, outcome: event.outcome };
        calls.inc(labels);
        if (event.latencyMs !== undefined) callDuration.observe(labels, event.latencyMs / 1000);
        if (event.outcome === "failed") {
          callFailures.inc({
            provider: event.provider,
            model: event.model,
            code: event.errorCode ?? "unknown",
          });
        }
        const model = { provider: event.provider, model: event.model };
        if (event.inputTokens > 0) tokens.inc({ ...model, kind: "input" }, event.inputTokens);
        if (event.outputTokens > 0) tokens.inc({ ...model, kind: "output" }, event.outputTokens);
        if (event.costUsd > 0) cost.inc(model, event.costUsd);
      },
      limiterWait(event) {
        limiterWaits.inc({ provider: event.provider });
        limiterWaitSeconds.observe({ provider: event.provider }, event.waitMs / 1000);
      },
      rateLimitPause(event) {
        pauses.inc({ provider: event.provider });
        pauseSeconds.inc({ provider: event.provider }, event.pauseMs / 1000);
      },
      breaker(event) {
        breakers.inc(event);
      },
      phase(event) {
        phaseSteps.inc({ phase: event.phase, outcome: event.outcome });
        phaseDuration.observe({ phase: event.phase, outcome: event.outcome }, event.durationMs / 1000);
      },
    };

    if (options.sessionCounts) {
      const read = options.sessionCounts;
      const statuses = options.sessionStatuses ?? [];
      new Gauge({
        name: "foundry_sessions",
        help: "Sessions by status (read from PostgreSQL at scrape time).",
        labelNames: ["status"],
        registers,
        async collect() {
          const counts = await collected("sessions", read);
          this.reset();
          if (!counts) return;
          for (const status of statuses) this.set({ status }, 0);
          for (const [status, count] of Object.entries(counts)) this.set({ status }, count);
        },
      });
    }

    const queues = options.queues ?? [];
    if (queues.length > 0) {
      // BullMQ's `Queue.exportPrometheusMetrics` writes this metric as text with its own HELP and
      // TYPE lines per queue (so several queues cannot share one exposition); the same name, help
      // and labels are kept here so that dashboards made for it work unchanged.
      new Gauge({
        name: "bullmq_job_count",
        help: "Number of jobs in the queue by state",
        labelNames: ["queue", "state"],
        registers,
        async collect() {
          const counts = await collected("queues", () =>
            Promise.all(queues.map(async (queue) => [queue.name, await queue.getJobCounts()] as const)),
          );
          this.reset();
          for (const [queue, byState] of counts ?? []) {
            for (const [state, count] of Object.entries(byState)) this.set({ queue, state }, count);
          }
        },
      });
    }
    // Last, so that a scrape (or `curl … | head`) starts with Foundry's own metrics.
    if (options.processMetrics) {
      collectDefaultMetrics({ register: this.registry, prefix: "foundry_process_" });
    }
  }

  /** Counts one answered HTTP request. */
  observeHttp(request: HttpObservation): void {
    const labels = { method: request.method, route: request.route, status: String(request.status) };
    this.#httpRequests.inc(labels);
    this.#httpDuration.observe(labels, request.durationMs / 1000);
  }

  /** Counts one idle memory trim of a worker (nothing unless made with `memoryTrims`). */
  observeMemoryTrim(trim: { durationMs: number; rssBefore: number; rssAfter: number }): void {
    if (!this.#memoryTrims) return;
    this.#memoryTrims.count.inc();
    this.#memoryTrims.seconds.inc(trim.durationMs / 1000);
    this.#memoryTrims.freed.inc(Math.max(0, trim.rssBefore - trim.rssAfter));
  }

  /** The `Content-Type` of {@link text}'s answer (Prometheus text format 0.0.4). */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** Every metric in Prometheus's text format, with the scrape-time gauges read now. */
  text(): Promise<string> {
    return this.registry.metrics();
  }
}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
