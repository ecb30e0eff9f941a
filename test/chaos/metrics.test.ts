// The chaos suite's arithmetic (no services): how requests are tied to calls and what counts as a
// duplicate, an unrecorded duplicate, a lost answer and a hung session. The suite itself runs with
// `npm run chaos`; these keep its numbers honest.
import type { RecordedRequest, SimProvider } from "@foundry/simulator";
import { describe, expect, it } from "vitest";
import { type CallRow, computeMetrics, promptOf, type SessionRow, shortReason } from "./metrics.ts";
import { summaryLine, totals } from "./report.ts";
import type { ScenarioResult } from "./runner.ts";

const T0 = 1_800_000_000_000;

function session(id: string, status: string, finishedAfterMs: number | null = 1_000): SessionRow {
  return {
    id,
    status,
    error: status === "failed" ? `phase planning failed: call for ${id} failed` : null,
    errorCode: status === "failed" ? "provider" : null,
    createdAt: new Date(T0),
    finishedAt: finishedAfterMs === null ? null : new Date(T0 + finishedAfterMs),
  };
}

function call(key: string, over: Partial<CallRow> = {}): CallRow {
  return {
    idempotencyKey: key,
    sessionId: key.split(".")[0] as string,
    provider: "openai",
    status: "succeeded",
    attempts: 1,
    prompt: `prompt of ${key}`,
    workerPid: 100,
    ...over,
  };
}

let seq = 0;
function request(
  provider: SimProvider,
  body: unknown,
  over: Partial<RecordedRequest> & { requestId?: string } = {},
): RecordedRequest {
  const { requestId, ...rest } = over;
  seq += 1;
  return {
    seq,
    provider,
    method: "POST",
    path: "/x",
    model: "m",
    schemaName: "requirements",
    headers: requestId ? { "x-foundry-request-id": requestId } : {},
    body,
    status: 200,
    fault: null,
    receivedAt: T0 + 100,
    respondedAt: T0 + 500,
    ...rest,
  };
}

const openaiBody = (prompt: string) => ({
  messages: [
    { role: "system", content: "sys" },
    { role: "user", content: prompt },
  ],
});

describe("computeMetrics", () => {
  it("ties requests to calls by header first, by prompt otherwise, and counts duplicates against attempts", () => {
    const calls = [
      call("s1.requirements.requirements", { attempts: 3 }),
      call("s1.planning.backend", { provider: "anthropic", attempts: 1 }),
    ];
    const requests = [
      request("openai", {}, { requestId: "s1.requirements.requirements#1", status: 429 }),
      request("openai", {}, { requestId: "s1.requirements.requirements#2", status: 500 }),
      request("openai", openaiBody("prompt of s1.requirements.requirements")),
      // Sent twice, journaled once: one unrecorded duplicate.
      request("anthropic", { messages: [{ role: "user", content: "prompt of s1.planning.backend" }] }),
      request("anthropic", {
        messages: [{ role: "user", content: [{ type: "text", text: "prompt of s1.planning.backend" }] }],
      }),
      request("gemini", { contents: [{ parts: [{ text: "a prompt nobody journaled" }] }] }),
    ];
    const metrics = computeMetrics({
      sessions: [session("s1", "succeeded")],
      calls,
      requests,
      kills: [],
      faultEndedAt: T0,
    });
    expect(metrics.matched).toEqual({ header: 2, prompt: 3, unmatched: 1 });
    expect(metrics.providerRequests).toBe(6);
    expect(metrics.answersStored).toBe(2);
    expect(metrics.duplicateCalls).toBe(2);
    expect(metrics.duplicateCallsBilled).toBe(1);
    expect(metrics.unrecordedDuplicates).toBe(1);
    expect(metrics.lostAnswers).toBe(0);
  });

  it("counts an answer that never reached the journal as lost, unless the session was cancelled", () => {
    const calls = [
      call("s1.planning.backend", { status: "running" }),
      call("s2.planning.backend", { status: "pending" }),
      call("s3.planning.backend", { status: "failed" }),
    ];
    const requests = calls.map((c) => request("openai", openaiBody(c.prompt)));
    const metrics = computeMetrics({
      sessions: [session("s1", "failed"), session("s2", "cancelled"), session("s3", "running", null)],
      calls,
      requests,
      kills: [],
      faultEndedAt: T0,
    });
    expect(metrics.lostAnswers).toBe(2);
    expect(metrics.lostDetails.join("\n")).toContain("s1.planning.backend");
    expect(metrics.lostDetails.join("\n")).toContain("s3.planning.backend");
    expect(metrics.hung).toBe(1);
    expect(metrics.recoverMs).toBeNull();
  });

  it("does not blame the engine for an answer that reached a worker the suite killed a moment later", () => {
    const row = call("s1.planning.backend", { status: "pending", workerPid: 4242 });
    const answered = request("openai", openaiBody(row.prompt), { respondedAt: T0 + 500 });
    const run = (killAt: number, pid: number) =>
      computeMetrics({
        sessions: [session("s1", "failed")],
        calls: [row],
        requests: [answered],
        kills: [{ name: "worker-1", pid, at: killAt }],
        faultEndedAt: T0,
      }).lostAnswers;
    expect(run(T0 + 700, 4242)).toBe(0);
    // Another worker was killed, or the kill came long after: the answer was lost by a live worker.
    expect(run(T0 + 700, 999)).toBe(1);
    expect(run(T0 + 5_000, 4242)).toBe(1);
  });

  it("measures recovery from the fault's end to the last session's end, and groups failure reasons", () => {
    const metrics = computeMetrics({
      sessions: [
        session("a", "succeeded", 2_000),
        session("b", "failed", 9_000),
        session("c", "failed", 500),
      ],
      calls: [],
      requests: [],
      kills: [],
      faultEndedAt: T0 + 4_000,
    });
    expect(metrics.recoverMs).toBe(5_000);
    expect(metrics).toMatchObject({ sessions: 3, succeeded: 1, failed: 2, hung: 0 });
    expect(metrics.failureReasons).toHaveLength(2);
  });
});

describe("promptOf", () => {
  it("reads the user message of each provider's wire format", () => {
    expect(promptOf("openai", openaiBody("p"))).toBe("p");
    expect(promptOf("anthropic", { system: "s", messages: [{ role: "user", content: "p" }] })).toBe("p");
    expect(promptOf("gemini", { contents: [{ role: "user", parts: [{ text: "p" }] }] })).toBe("p");
    expect(promptOf("openai", "not json")).toBeNull();
  });
});

describe("shortReason", () => {
  it("replaces ids, joins lines and cuts long reasons", () => {
    expect(shortReason("phase x failed:\n  child 0bb48ffa-4f2e-4e95-ba38-be899fc33ec5.y failed")).toBe(
      "phase x failed: child <id>.y failed",
    );
    expect(shortReason("x".repeat(500)).length).toBeLessThanOrEqual(160);
    expect(shortReason(null)).toBe("(no reason recorded)");
  });
});

describe("the summary line", () => {
  it("adds up every scenario and has the agreed shape", () => {
    const metrics = computeMetrics({
      sessions: [session("a", "succeeded"), session("b", "queued", null)],
      calls: [],
      requests: [],
      kills: [],
      faultEndedAt: T0,
    });
    const results: ScenarioResult[] = [
      { name: "one", metrics, error: null, notes: [], durationMs: 1 },
      { name: "two", metrics: null, error: "postgres did not start", notes: [], durationMs: 1 },
    ];
    const total = totals(results);
    expect(summaryLine(total)).toBe(
      "chaos: 2 scenarios, 2 sessions, hung 1, lost answers 0, unrecorded duplicates 0",
    );
    expect(total.errors).toBe(1);
  });
});
