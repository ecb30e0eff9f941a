import { describe, expect, it } from "vitest";
import { FoundryMetrics } from "./metrics.ts";

// What the observer hooks become, and how scrape-time collectors behave when their source fails.
// (The same metrics after a real session, through real workers and the API: test/metrics.test.ts.)

const line = (text: string, name: string) =>
  text.split("\n").filter((entry) => entry.startsWith(`${name}{`) || entry.startsWith(`${name} `));

describe("FoundryMetrics", () => {
  it("turns limiter waits, 429 pauses and breaker transitions into counters and histograms", async () => {
    const metrics = new FoundryMetrics();
    metrics.observer.limiterWait?.({ provider: "anthropic", waitMs: 250 });
    metrics.observer.limiterWait?.({ provider: "anthropic", waitMs: 750 });
    metrics.observer.rateLimitPause?.({ provider: "openai", pauseMs: 1_500 });
    metrics.observer.breaker?.({ provider: "gemini", model: "gemini-2.5-pro", state: "open" });
    const text = await metrics.text();
    expect(line(text, "foundry_rate_limit_waits_total")).toEqual([
      'foundry_rate_limit_waits_total{provider="anthropic"} 2',
    ]);
    expect(line(text, "foundry_rate_limit_wait_seconds_sum")).toEqual([
      'foundry_rate_limit_wait_seconds_sum{provider="anthropic"} 1',
    ]);
    expect(line(text, "foundry_rate_limit_pause_seconds_total")).toEqual([
      'foundry_rate_limit_pause_seconds_total{provider="openai"} 1.5',
    ]);
    expect(line(text, "foundry_breaker_transitions_total")).toEqual([
      'foundry_breaker_transitions_total{provider="gemini",model="gemini-2.5-pro",state="open"} 1',
    ]);
  });

  it("counts idle memory trims, their time and what they gave back (never less than nothing)", async () => {
    expect(await new FoundryMetrics().text()).not.toContain("foundry_memory_trim");
    const metrics = new FoundryMetrics({ memoryTrims: true });
    metrics.observeMemoryTrim({ durationMs: 40, rssBefore: 180 * 2 ** 20, rssAfter: 120 * 2 ** 20 });
    metrics.observeMemoryTrim({ durationMs: 60, rssBefore: 120 * 2 ** 20, rssAfter: 121 * 2 ** 20 });
    const text = await metrics.text();
    expect(line(text, "foundry_memory_trims_total")).toEqual(["foundry_memory_trims_total 2"]);
    expect(line(text, "foundry_memory_trim_seconds_total")).toEqual([
      "foundry_memory_trim_seconds_total 0.1",
    ]);
    expect(line(text, "foundry_memory_trim_freed_bytes_total")).toEqual([
      `foundry_memory_trim_freed_bytes_total ${60 * 2 ** 20}`,
    ]);
  });

  it("counts a failed call by its code and leaves tokens and cost alone when there are none", async () => {
    const metrics = new FoundryMetrics();
    metrics.observer.call?.({
      provider: "openai",
      model: "m",
      outcome: "failed",
      errorCode: "server_error",
      latencyMs: 40,
      inputTokens: 0,
      outputTokens: 0,
      costUsd: 0,
    });
    const text = await metrics.text();
    expect(line(text, "foundry_model_call_failures_total")).toEqual([
      'foundry_model_call_failures_total{provider="openai",model="m",code="server_error"} 1',
    ]);
    expect(line(text, "foundry_model_call_duration_seconds_count")).toEqual([
      'foundry_model_call_duration_seconds_count{provider="openai",model="m",outcome="failed"} 1',
    ]);
    expect(line(text, "foundry_tokens_total")).toEqual([]);
    expect(line(text, "foundry_cost_usd_total")).toEqual([]);
  });

  it("exports every known status, and leaves a collector's series out when it fails or hangs", async () => {
    const failures: string[] = [];
    let mode: "ok" | "fail" | "hang" = "ok";
    const metrics = new FoundryMetrics({
      sessionStatuses: ["queued", "running", "succeeded"],
      sessionCounts: async () => {
        if (mode === "fail") throw new Error("database unreachable");
        if (mode === "hang") return new Promise<never>(() => {});
        return { succeeded: 3 };
      },
      queues: [
        {
          name: "openai",
          getJobCounts: async () => {
            if (mode !== "ok") throw new Error("redis unreachable");
            return { waiting: 2, active: 1 };
          },
        },
      ],
      collectTimeoutMs: 50,
      onCollectError: (error, collector) => failures.push(`${collector}: ${error.message}`),
    });
    let text = await metrics.text();
    expect(line(text, "foundry_sessions")).toEqual([
      'foundry_sessions{status="queued"} 0',
      'foundry_sessions{status="running"} 0',
      'foundry_sessions{status="succeeded"} 3',
    ]);
    expect(line(text, "bullmq_job_count")).toEqual([
      'bullmq_job_count{queue="openai",state="waiting"} 2',
      'bullmq_job_count{queue="openai",state="active"} 1',
    ]);
    for (const next of ["fail", "hang"] as const) {
      mode = next;
      text = await metrics.text();
      expect(line(text, "foundry_sessions")).toEqual([]);
      expect(line(text, "bullmq_job_count")).toEqual([]);
    }
    // The collectors run side by side: their order is not fixed.
    expect(failures.sort()).toEqual([
      "queues: redis unreachable",
      "queues: redis unreachable",
      "sessions: database unreachable",
      "sessions: no answer within 50 ms",
    ]);
  });
});
