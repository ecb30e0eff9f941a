// Metrics and logs after a real session: the workers' metrics (model calls by provider and outcome,
// tokens and cost agreeing with the journal, a 429's failure and pause, phases), the API's
// (HTTP requests by route pattern and status, sessions by status, job counts per queue), served
// behind the token at /metrics and without it on a separate port; and the logs of the whole run
// carry session, phase and job ids but none of the provider keys nor the API token.
import { Writable } from "node:stream";
import { FoundryMetrics, type MetricsServer, serveMetrics } from "@foundry/metrics";
import { createLogger } from "@foundry/runtime";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, startStack } from "./support/stack.ts";

const KEYS = {
  openai: "sk-openai-LEAK-CHECK-4d1f9a7e2b",
  anthropic: "sk-ant-LEAK-CHECK-8c3e51b0f6",
  gemini: "AIza-LEAK-CHECK-19e7d2c4a8",
};
const TOKEN = "api-token-LEAK-CHECK-6b2f0e9d3c71";

let stack: Stack;
let id: string;
const workerMetrics = new FoundryMetrics({ defaultLabels: { service: "worker" } });
const logLines: string[] = [];

beforeAll(async () => {
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logLines.push(...chunk.toString("utf8").split("\n").filter(Boolean));
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
    durability: { maxRateLimitPauseMs: 1_000 },
    observe: workerMetrics.observer,
    apiToken: TOKEN,
    log: createLogger({ name: "test", level: "trace", destination: sink }),
  });
  id = await stack.submit("Build a todo list app");
  expect((await stack.waitForSession(id)).status).toBe("succeeded");
});
afterAll(() => stack?.close());

/** The value of each series of `name`, keyed by its labels as `k=v,k=v` (sorted, `service` left out). */
async function series(metrics: FoundryMetrics, name: string): Promise<Map<string, number>> {
  const metric = metrics.registry.getSingleMetric(name);
  if (!metric) throw new Error(`no metric ${name}`);
  const { values } = await metric.get();
  return new Map(
    values.map((value) => [
      Object.entries(value.labels)
        .filter(([key]) => key !== "service")
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([key, label]) => `${key}=${label}`)
        .join(","),
      value.value,
    ]),
  );
}

/** Sums `name`'s series whose labels include every `key=value` of `where`. */
async function sum(metrics: FoundryMetrics, name: string, where: Record<string, string>) {
  let total = 0;
  for (const [labels, value] of await series(metrics, name)) {
    const parts = new Set(labels.split(","));
    if (Object.entries(where).every(([key, wanted]) => parts.has(`${key}=${wanted}`))) total += value;
  }
  return total;
}

describe("the workers' metrics after a session", () => {
  it("count model calls by provider and outcome as the journal does, with tokens and cost", async () => {
    const rows = await stack.db.prisma.modelCall.findMany({ where: { sessionId: id } });
    expect(rows.length).toBeGreaterThan(5);
    for (const provider of ["openai", "anthropic", "gemini"]) {
      const mine = rows.filter((row) => row.provider === provider);
      expect(mine.length, provider).toBeGreaterThan(0);
      expect(await sum(workerMetrics, "foundry_model_calls_total", { provider, outcome: "succeeded" })).toBe(
        mine.filter((row) => row.status === "succeeded").length,
      );
      expect(await sum(workerMetrics, "foundry_tokens_total", { provider, kind: "input" })).toBe(
        mine.reduce((total, row) => total + row.inputTokens, 0),
      );
      expect(await sum(workerMetrics, "foundry_tokens_total", { provider, kind: "output" })).toBe(
        mine.reduce((total, row) => total + row.outputTokens, 0),
      );
      const cost = mine.reduce((total, row) => total + Number(row.costUsd), 0);
      expect(await sum(workerMetrics, "foundry_cost_usd_total", { provider })).toBeCloseTo(cost, 5);
    }
    // The latency histogram saw every request that was answered or refused.
    const requests = await sum(workerMetrics, "foundry_model_call_duration_seconds", {});
    expect(requests).toBeGreaterThan(0);
  });

  it("count the 429: a failed request with its code, and one pause of the openai queue", async () => {
    expect(
      await sum(workerMetrics, "foundry_model_calls_total", { provider: "openai", outcome: "failed" }),
    ).toBe(1);
    expect(await series(workerMetrics, "foundry_model_call_failures_total")).toEqual(
      new Map([[expect.stringMatching(/^code=rate_limited,model=.+,provider=openai$/), 1]]),
    );
    expect(await sum(workerMetrics, "foundry_rate_limit_pauses_total", { provider: "openai" })).toBe(1);
    expect(await sum(workerMetrics, "foundry_rate_limit_pause_seconds_total", { provider: "openai" })).toBe(
      0.2,
    );
  });

  it("count the phase steps", async () => {
    const phases = await stack.db.prisma.phaseRun.findMany({ where: { sessionId: id } });
    const ran = phases.filter((phase) => phase.status === "succeeded").length;
    expect(await sum(workerMetrics, "foundry_phase_steps_total", { outcome: "succeeded" })).toBe(ran);
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
  let server: MetricsServer;
  beforeAll(async () => {
    server = await serveMetrics({ metrics: workerMetrics, port: 0 });
  });
  afterAll(() => server?.close());

  it("serves the metrics on their own port, on loopback, without a token", async () => {
    expect(server.host).toBe("127.0.0.1");
    const response = await fetch(`http://127.0.0.1:${server.port}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    expect(text).toMatch(
      /^foundry_model_calls_total\{provider="openai",model="[^"]+",outcome="succeeded",service="worker"\} \d+$/m,
    );
    expect((await fetch(`http://127.0.0.1:${server.port}/`)).status).toBe(404);
    expect((await fetch(`http://127.0.0.1:${server.port}/metrics`, { method: "POST" })).status).toBe(405);
  });
});

describe("the logs of the whole run", () => {
  it("carry session, phase and job ids", () => {
    const entries = logLines.map((line) => JSON.parse(line) as Record<string, unknown>);
    const phaseDone = entries.filter((entry) => entry.msg === "phase succeeded");
    expect(phaseDone.length).toBeGreaterThan(3);
    for (const entry of phaseDone) {
      expect(entry).toMatchObject({ sessionId: id, phase: expect.any(String), jobId: expect.any(String) });
    }
    const answered = entries.filter((entry) => entry.msg === "the provider answered");
    expect(answered.length).toBeGreaterThan(5);
    for (const entry of answered) {
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
    expect(entries).toContainEqual(
      expect.objectContaining({ msg: "request", route: "/api/sessions/:id", sessionId: id, status: 200 }),
    );
  });

  it("never contain a provider key or the API token", () => {
    expect(logLines.length).toBeGreaterThan(10);
    const all = logLines.join("\n");
    for (const secret of [...Object.values(KEYS), TOKEN]) {
      expect(all.includes(secret), secret).toBe(false);
      // Nor a recognisable part of one.
      expect(all.includes(secret.slice(-10)), secret).toBe(false);
    }
  });
});
