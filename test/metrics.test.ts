// Metrics and logs after a real session run by a real worker process (apps/worker/src/main.ts): the
// worker's metrics on its METRICS_PORT without a token (model calls by provider and outcome, tokens
// and cost agreeing with the journal, a 429's failure and pause, phases, its queues' job counts);
// the API's behind the token at /metrics (HTTP requests by route pattern and status, sessions by
// status, job counts per queue); the memory the idle worker gave back; and the logs of the whole
// run (the worker's stdout, the API's) carry session, phase and job ids but none of the provider keys
// nor the API token.
import { Writable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { FoundryMetrics, type MetricsServer, serveMetrics } from "@foundry/metrics";
import { createLogger } from "@foundry/runtime";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, startStack } from "./support/stack.ts";
import { startWorkerProcess, type WorkerProcess, waitUntilConsuming } from "./support/worker-process.ts";

const KEYS = {
  openai: "sk-openai-LEAK-CHECK-4d1f9a7e2b",
  anthropic: "sk-ant-LEAK-CHECK-8c3e51b0f6",
  gemini: "AIza-LEAK-CHECK-19e7d2c4a8",
};
const TOKEN = "api-token-LEAK-CHECK-6b2f0e9d3c71";
const IDLE_TRIM_MS = 400;

let stack: Stack;
let worker: WorkerProcess;
let workerMetricsUrl: string;
let id: string;
/** The API's log lines (the worker's are its output). */
const apiLogLines: string[] = [];

beforeAll(async () => {
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      apiLogLines.push(...chunk.toString("utf8").split("\n").filter(Boolean));
      done();
    },
  });
  stack = await startStack({
    simulator: {
      keys: KEYS,
      // One 429 for the first OpenAI call: a failed request, then a pause of the openai queue.
      faults: [
        { provider: "openai", schemaName: "requirements", kind: "rate_limit", retryAfterSeconds: 0.2 },
      ],
    },
    workers: false,
    apiToken: TOKEN,
    log: createLogger({ name: "api", level: "trace", destination: sink }),
  });
  worker = startWorkerProcess(stack, ["--queues", "all"], {
    METRICS_PORT: "0",
    LOG_LEVEL: "trace",
    MAX_RATE_LIMIT_PAUSE_MS: "1000",
    IDLE_TRIM_MS: String(IDLE_TRIM_MS),
  });
  await waitUntilConsuming(worker);
  const started = /"metrics":"(http:\/\/127\.0\.0\.1:\d+\/metrics)"/.exec(worker.output());
  if (!started) throw new Error(`the worker did not say where its metrics are:\n${worker.output()}`);
  workerMetricsUrl = started[1] as string;
  id = await stack.submit("Build a todo list app");
  expect((await stack.waitForSession(id)).status).toBe("succeeded");
});
afterAll(async () => {
  await worker?.stop();
  await stack?.close();
});

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Reads Prometheus's text format (one `name{a="b",…} value` per line; comments skipped). */
function parseMetrics(text: string): Sample[] {
  return text.split("\n").flatMap((line) => {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) return [];
    const labels = Object.fromEntries(
      [...(match[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]),
    );
    return [{ name: match[1] as string, labels, value: Number(match[3]) }];
  });
}

async function scrapeWorker(): Promise<Sample[]> {
  const response = await fetch(workerMetricsUrl);
  expect(response.status).toBe(200);
  return parseMetrics(await response.text());
}

/** Sums the samples of `name` whose labels include `where`. */
function sum(samples: Sample[], name: string, where: Record<string, string>): number {
  return samples
    .filter((sample) => sample.name === name)
    .filter((sample) => Object.entries(where).every(([key, value]) => sample.labels[key] === value))
    .reduce((total, sample) => total + sample.value, 0);
}

describe("the workers' metrics after a session", () => {
  it("count model calls by provider and outcome as the journal does, with tokens and cost", async () => {
    const samples = await scrapeWorker();
    const rows = await stack.db.prisma.modelCall.findMany({ where: { sessionId: id } });
    expect(rows.length).toBeGreaterThan(5);
    for (const provider of ["openai", "anthropic", "gemini"]) {
      const mine = rows.filter((row) => row.provider === provider);
      expect(mine.length, provider).toBeGreaterThan(0);
      expect(sum(samples, "foundry_model_calls_total", { provider, outcome: "succeeded" })).toBe(
        mine.filter((row) => row.status === "succeeded").length,
      );
      expect(sum(samples, "foundry_tokens_total", { provider, kind: "input" })).toBe(
        mine.reduce((total, row) => total + row.inputTokens, 0),
      );
      expect(sum(samples, "foundry_tokens_total", { provider, kind: "output" })).toBe(
        mine.reduce((total, row) => total + row.outputTokens, 0),
      );
      const cost = mine.reduce((total, row) => total + Number(row.costUsd), 0);
      expect(sum(samples, "foundry_cost_usd_total", { provider })).toBeCloseTo(cost, 5);
    }
    // The latency histogram saw every request that was answered or refused: one per journaled
    // request (`attempts` counts them, the 429 included).
    const requests = rows.reduce((total, row) => total + row.attempts, 0);
    expect(sum(samples, "foundry_model_call_duration_seconds_count", {})).toBe(requests);
    expect(samples.find((sample) => sample.name === "foundry_model_calls_total")?.labels.service).toBe(
      "worker",
    );
  });

  it("count the 429: a failed request with its code, and one pause of the openai queue", async () => {
    const samples = await scrapeWorker();
    expect(sum(samples, "foundry_model_calls_total", { provider: "openai", outcome: "failed" })).toBe(1);
    const failures = samples.filter((sample) => sample.name === "foundry_model_call_failures_total");
    expect(failures).toEqual([
      {
        name: "foundry_model_call_failures_total",
        labels: { provider: "openai", model: expect.any(String), code: "rate_limited", service: "worker" },
        value: 1,
      },
    ]);
    expect(sum(samples, "foundry_rate_limit_pauses_total", { provider: "openai" })).toBe(1);
    expect(sum(samples, "foundry_rate_limit_pause_seconds_total", { provider: "openai" })).toBe(0.2);
  });

  it("count the phase steps, and the job counts of the worker's queues", async () => {
    const samples = await scrapeWorker();
    const phases = await stack.db.prisma.phaseRun.findMany({ where: { sessionId: id } });
    const ran = phases.filter((phase) => phase.status === "succeeded").length;
    expect(sum(samples, "foundry_phase_steps_total", { outcome: "succeeded" })).toBe(ran);
    for (const queue of ["orchestrator", "openai", "anthropic", "gemini"]) {
      expect(sum(samples, "bullmq_job_count", { queue, state: "completed" }), queue).toBeGreaterThan(0);
      expect(sum(samples, "bullmq_job_count", { queue, state: "active" }), queue).toBe(0);
    }
  });

  it("count the memory given back once the worker was idle, once per idle spell", async () => {
    const session = await stack.db.prisma.session.findUniqueOrThrow({ where: { id } });
    const finishedAt = session.finishedAt?.getTime() as number;
    const trimsLogged = () =>
      worker
        .output()
        .split("\n")
        .filter((line) => line.includes('"idle: memory given back"'))
        .map((line) => JSON.parse(line) as { time: number; rssBeforeMb: number; rssAfterMb: number });
    // The session's last job ended just before its finish was recorded; IDLE_TRIM_MS later, a trim.
    const deadline = Date.now() + 10_000;
    while (!trimsLogged().some((trim) => trim.time >= finishedAt) && Date.now() < deadline) await sleep(50);
    const logged = trimsLogged();
    const last = logged.at(-1);
    expect(last?.time).toBeGreaterThanOrEqual(finishedAt);
    expect(last?.rssAfterMb).toBeLessThanOrEqual(last?.rssBeforeMb as number);
    const samples = await scrapeWorker();
    expect(sum(samples, "foundry_memory_trims_total", {})).toBe(logged.length);
    expect(sum(samples, "foundry_memory_trim_seconds_total", {})).toBeGreaterThan(0);
    // Still idle three trim delays later: not trimmed again.
    await sleep(3 * IDLE_TRIM_MS);
    expect(sum(await scrapeWorker(), "foundry_memory_trims_total", {})).toBe(logged.length);
  });
});

describe("the API's /metrics", () => {
  const scrape = async (token: string | null) => {
    const response = await stack.app.request("/metrics", {
      headers: token ? { authorization: `Bearer ${token}` } : {},
    });
    return {
      status: response.status,
      type: response.headers.get("content-type"),
      text: await response.text(),
    };
  };

  it("needs the token", async () => {
    expect((await scrape(null)).status).toBe(401);
    expect((await scrape("not-the-token-at-all")).status).toBe(401);
  });

  it("labels HTTP requests by route pattern and status, never by raw path", async () => {
    await stack.request(`/api/sessions/${id}?view=summary`);
    await stack.app.request("/api/sessions", { method: "POST" }); // no token: 401
    await stack.request("/api/no-such-route");
    const { status, type, text } = await scrape(TOKEN);
    expect(status).toBe(200);
    expect(type).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(text).toContain("# TYPE foundry_http_requests_total counter");
    expect(text).toContain("# TYPE foundry_http_request_duration_seconds histogram");
    const line = (labels: string) =>
      new RegExp(`^foundry_http_requests_total\\{${labels},service="api"\\} [1-9]\\d*$`, "m");
    expect(text).toMatch(line('method="GET",route="/api/sessions/:id",status="200"'));
    expect(text).toMatch(line('method="POST",route="/api/sessions",status="202"'));
    expect(text).toMatch(line('method="POST",route="/api/sessions",status="401"'));
    expect(text).toMatch(line('method="GET",route="\\(unmatched\\)",status="404"'));
    expect(text).toMatch(
      /^foundry_http_request_duration_seconds_bucket\{le="0\.1",service="api",method="GET",route="\/api\/sessions\/:id",status="200"\} [1-9]/m,
    );
    expect(text).not.toContain(id);
    expect(text).not.toContain("no-such-route");
  });

  it("reads sessions by status and the job counts of every queue at scrape time", async () => {
    const { text } = await scrape(TOKEN);
    expect(text).toMatch(/^foundry_sessions\{status="succeeded",service="api"\} 1$/m);
    expect(text).toMatch(/^foundry_sessions\{status="running",service="api"\} 0$/m);
    expect(text).toContain("# TYPE bullmq_job_count gauge");
    for (const queue of ["orchestrator", "openai", "anthropic", "gemini"]) {
      const completed = new RegExp(
        `^bullmq_job_count\\{queue="${queue}",state="completed",service="api"\\} (\\d+)$`,
        "m",
      );
      expect(Number(completed.exec(text)?.[1]), queue).toBeGreaterThan(0);
      expect(text).toMatch(
        new RegExp(`^bullmq_job_count\\{queue="${queue}",state="waiting",service="api"\\} 0$`, "m"),
      );
    }
    const phases = await stack.db.prisma.phaseRun.count({ where: { sessionId: id } });
    expect(text).toContain(
      `bullmq_job_count{queue="orchestrator",state="completed",service="api"} ${phases}`,
    );
  });
});

describe("METRICS_PORT", () => {
  it("serves a worker's metrics on their own port, on loopback, without a token", async () => {
    const response = await fetch(workerMetricsUrl);
    expect(response.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(await response.text()).toContain("# TYPE foundry_model_calls_total counter");
    const root = new URL("/", workerMetricsUrl);
    expect((await fetch(root)).status).toBe(404);
    expect((await fetch(workerMetricsUrl, { method: "POST" })).status).toBe(405);
  });

  it("serves the API's metrics the same way", async () => {
    const metrics = new FoundryMetrics({ defaultLabels: { service: "api" } });
    metrics.observeHttp({ method: "GET", route: "/healthz", status: 200, durationMs: 1 });
    let server: MetricsServer | undefined;
    try {
      server = await serveMetrics({ metrics, port: 0 });
      expect(server.host).toBe("127.0.0.1");
      const text = await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text();
      expect(text).toContain(
        'foundry_http_requests_total{method="GET",route="/healthz",status="200",service="api"} 1',
      );
    } finally {
      await server?.close();
    }
  });
});

describe("the logs of the whole run", () => {
  const lines = () => [...worker.output().split("\n").filter(Boolean), ...apiLogLines];

  it("carry session, phase and job ids", () => {
    const entries = worker
      .output()
      .split("\n")
      .filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const phaseDone = entries.filter((entry) => entry.msg === "phase succeeded");
    expect(phaseDone.length).toBeGreaterThan(3);
    const answered = entries.filter((entry) => entry.msg === "the provider answered");
    expect(answered.length).toBeGreaterThan(5);
    for (const entry of [...phaseDone, ...answered]) {
      expect(entry).toMatchObject({ sessionId: id, phase: expect.any(String), jobId: expect.any(String) });
    }
    expect(entries.find((entry) => entry.msg === "the provider request failed")).toMatchObject({
      sessionId: id,
      phase: "requirements",
      jobId: expect.any(String),
      provider: "openai",
      code: "rate_limited",
    });
    // The API's access log (debug) names the session of each request about one.
    const api = apiLogLines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(api).toContainEqual(
      expect.objectContaining({ msg: "request", route: "/api/sessions/:id", sessionId: id, status: 200 }),
    );
  });

  it("never contain a provider key or the API token", () => {
    const all = lines().join("\n");
    expect(lines().length).toBeGreaterThan(50);
    // The keys were the ones used: the simulator accepts no other (a wrong key is a 401).
    expect(stack.sim.requests().length).toBeGreaterThan(5);
    for (const secret of [...Object.values(KEYS), TOKEN]) {
      expect(all.includes(secret), secret).toBe(false);
      // Nor a recognisable part of one.
      expect(all.includes(secret.slice(-10)), secret).toBe(false);
    }
  });
});
