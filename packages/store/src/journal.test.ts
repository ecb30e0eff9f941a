import { randomUUID } from "node:crypto";
import { setTimeout } from "node:timers/promises";
import { Prisma } from "@foundry/db";
import type { WorkflowDefinition } from "@foundry/workflow";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../../test/support/db.ts";
import { insertTestSession, loadSeedWorkflow } from "../../../test/support/sessions.ts";
import {
  claimCall,
  completeCall,
  ensureCalls,
  getCall,
  getCallForRun,
  type PlannedCall,
  pruneSpend,
  SPEND_KEPT_MS,
  splitPhaseCalls,
  succeededCalls,
  waitForPendingCalls,
} from "./journal.ts";
import { startPhaseRun } from "./phase-runs.ts";

let db: TestDatabase;
let workflow: WorkflowDefinition;

beforeAll(async () => {
  db = await createTestDatabase();
  workflow = await loadSeedWorkflow();
});
afterAll(() => db.drop());

const planned = (callKey: string, provider: "openai" | "anthropic"): PlannedCall => ({
  callKey,
  role: "manager",
  provider,
  model: `${provider}-test`,
  schemaName: "requirements",
  system: "be brief",
  prompt: `the ${callKey} prompt`,
  route: [{ provider, model: `${provider}-test` }],
  meta: { task: callKey },
});

async function runningPhase(): Promise<{ id: string; phase: string }> {
  const id = await insertTestSession(db.prisma, workflow);
  const phase = (workflow.phases[0] as { id: string }).id;
  await startPhaseRun(db.prisma, { sessionId: id, run: 0, phase });
  return { id, phase };
}

describe("ensureCalls", () => {
  it("journals the calls once, returns those without an answer and marks the phase waiting for them", async () => {
    const { id, phase } = await runningPhase();
    const calls = [planned("b", "anthropic"), planned("a", "openai")];
    const pending = await ensureCalls(db.prisma, id, phase, calls);
    expect(pending).toEqual([
      {
        idempotencyKey: `${id}.${phase}.a`,
        sessionId: id,
        phase,
        callKey: "a",
        provider: "openai",
        model: "openai-test",
        fallbackFrom: null,
      },
      expect.objectContaining({ callKey: "b", provider: "anthropic" }),
    ]);
    const stored = await db.prisma.modelCall.findUnique({ where: { idempotencyKey: `${id}.${phase}.b` } });
    expect(stored?.request).toMatchObject({ prompt: "the b prompt", meta: { task: "b" } });
    expect(stored?.status).toBe("pending");

    // Again (a re-run of the phase): nothing journaled twice, the same calls pending.
    await db.prisma.modelCall.update({
      where: { idempotencyKey: `${id}.${phase}.a` },
      data: { status: "succeeded" },
    });
    const again = await ensureCalls(db.prisma, id, phase, calls);
    expect(again.map((call) => call.callKey)).toEqual(["b"]);
    expect(await db.prisma.modelCall.count({ where: { sessionId: id } })).toBe(2);

    const run = await db.prisma.phaseRun.findFirst({ where: { sessionId: id, phase } });
    expect(run?.status).toBe("waiting");
    const waiting = await db.prisma.sessionEvent.findMany({
      where: { sessionId: id, type: "phase.waiting" },
      orderBy: { id: "asc" },
    });
    expect(waiting.map((event) => [event.message, event.data])).toEqual([
      ["waiting for 2 model call(s): a → openai, b → anthropic", { calls: ["a", "b"] }],
      ["waiting for 1 model call(s): b → anthropic", { calls: ["b"] }],
    ]);
  });

  it("leaves the phase running when every call has its answer", async () => {
    const { id, phase } = await runningPhase();
    await ensureCalls(db.prisma, id, phase, [planned("a", "openai")]);
    await db.prisma.phaseRun.updateMany({ where: { sessionId: id, phase }, data: { status: "running" } });
    await db.prisma.modelCall.updateMany({ where: { sessionId: id }, data: { status: "succeeded" } });
    expect(await ensureCalls(db.prisma, id, phase, [planned("a", "openai")])).toEqual([]);
    const run = await db.prisma.phaseRun.findFirst({ where: { sessionId: id, phase } });
    expect(run?.status).toBe("running");
  });
});

/** The calls of a waiting phase as a phase job coming back reads them, with its session. */
async function waitedFor(sessionId: string, phase: string) {
  const { calls } = await startPhaseRun(db.prisma, { sessionId, run: 0, phase });
  if (!calls) throw new Error(`phase ${phase} is not waiting`);
  return splitPhaseCalls(calls);
}

describe("ensureCalls against another delivery of the same phase", () => {
  it("returns a call that delivery journaled while this one was journaling", async () => {
    const { id, phase } = await runningPhase();
    const other = new pg.Client({ connectionString: db.url });
    await other.connect();
    try {
      // The other delivery journals call "a" and has not committed yet.
      await other.query("BEGIN");
      await other.query(
        `INSERT INTO model_calls (id, idempotency_key, session_id, phase, call_key, role, provider, model, schema_name, request, status)
         VALUES (gen_random_uuid(), $1, $2, $3, 'a', 'manager', 'openai', 'openai-test', 'requirements', $4, 'pending')`,
        [
          `${id}.${phase}.a`,
          id,
          phase,
          JSON.stringify({ system: "s", prompt: "p", route: [], meta: { task: "a" } }),
        ],
      );
      // This one waits on that row's key; its snapshot was taken before the other committed.
      const journaling = ensureCalls(db.prisma, id, phase, [
        planned("a", "openai"),
        planned("b", "anthropic"),
      ]);
      await setTimeout(300);
      await other.query("COMMIT");
      const pending = await journaling;
      expect(pending.map((call) => call.callKey)).toEqual(["a", "b"]);
      const waiting = await db.prisma.sessionEvent.findMany({
        where: { sessionId: id, type: "phase.waiting" },
      });
      expect(waiting.map((event) => event.message)).toEqual([
        "waiting for 2 model call(s): a → openai, b → anthropic",
      ]);
    } finally {
      await other.end();
    }
  });
});

describe("a waiting phase's calls (startPhaseRun) and succeededCalls", () => {
  it("read what gathering and queueing need, the request's meta but not its prompt", async () => {
    const { id, phase } = await runningPhase();
    await ensureCalls(db.prisma, id, phase, [planned("a", "openai"), planned("b", "anthropic")]);
    await db.prisma.modelCall.update({
      where: { idempotencyKey: `${id}.${phase}.a` },
      data: { status: "succeeded", response: { answer: 42 } },
    });
    const { answered, unanswered } = await waitedFor(id, phase);
    expect(answered).toEqual([
      {
        idempotencyKey: `${id}.${phase}.a`,
        sessionId: id,
        phase,
        callKey: "a",
        role: "manager",
        provider: "openai",
        model: "openai-test",
        fallbackFrom: null,
        status: "succeeded",
        response: { answer: 42 },
        meta: { task: "a" },
      },
    ]);
    expect(unanswered.map((call) => [call.callKey, call.status, call.response])).toEqual([
      ["b", "pending", null],
    ]);
    expect(await succeededCalls(db.prisma, id, phase)).toEqual(answered);
  });

  it("fail naming the row when the stored meta is not what the engine writes", async () => {
    const { id, phase } = await runningPhase();
    await ensureCalls(db.prisma, id, phase, [planned("a", "openai")]);
    const key = `${id}.${phase}.a`;
    await db.prisma.$executeRaw`
      UPDATE model_calls SET request = jsonb_set(request, '{meta}', '"not an object"') WHERE idempotency_key = ${key}`;
    await expect(waitedFor(id, phase)).rejects.toThrow(
      `model_calls.request of the row with idempotency_key ${key}`,
    );
  });
});

describe("startPhaseRun's calls", () => {
  it("are null unless the phase was waiting for its calls", async () => {
    const { id, phase } = await runningPhase();
    expect((await startPhaseRun(db.prisma, { sessionId: id, run: 0, phase })).calls).toBeNull();
    await ensureCalls(db.prisma, id, phase, [planned("a", "openai")]);
    expect(
      (await startPhaseRun(db.prisma, { sessionId: id, run: 0, phase })).calls?.map((c) => c.callKey),
    ).toEqual(["a"]);
  });
});

describe("waitForPendingCalls", () => {
  it("reads the calls still without an answer and marks the phase waiting for them, or does nothing", async () => {
    const { id, phase } = await runningPhase();
    await ensureCalls(db.prisma, id, phase, [planned("a", "openai"), planned("b", "anthropic")]);
    await db.prisma.modelCall.update({
      where: { idempotencyKey: `${id}.${phase}.a` },
      data: { status: "succeeded" },
    });
    await db.prisma.phaseRun.updateMany({ where: { sessionId: id, phase }, data: { status: "running" } });

    const pending = await waitForPendingCalls(db.prisma, id, phase);
    expect(pending.map((call) => [call.callKey, call.provider])).toEqual([["b", "anthropic"]]);
    expect((await db.prisma.phaseRun.findFirst({ where: { sessionId: id, phase } }))?.status).toBe("waiting");
    const waiting = await db.prisma.sessionEvent.findMany({
      where: { sessionId: id, type: "phase.waiting" },
      orderBy: { id: "asc" },
    });
    expect(waiting.at(-1)?.message).toBe("waiting for 1 model call(s): b → anthropic");

    await db.prisma.modelCall.updateMany({ where: { sessionId: id }, data: { status: "succeeded" } });
    await db.prisma.phaseRun.updateMany({ where: { sessionId: id, phase }, data: { status: "running" } });
    expect(await waitForPendingCalls(db.prisma, id, phase)).toEqual([]);
    expect((await db.prisma.phaseRun.findFirst({ where: { sessionId: id, phase } }))?.status).toBe("running");
    expect(await db.prisma.sessionEvent.count({ where: { sessionId: id, type: "phase.waiting" } })).toBe(
      waiting.length,
    );
  });
});

describe("getCallForRun", () => {
  it("reads a call with its parsed request and its session's status, budget, cache and spend, without its answer", async () => {
    const { id, phase } = await runningPhase();
    await db.prisma.session.update({
      where: { id },
      data: { budgetUsd: "1.5", cache: true, costUsd: "0.25" },
    });
    await ensureCalls(db.prisma, id, phase, [planned("a", "openai")]);
    const key = `${id}.${phase}.a`;
    await db.prisma.modelCall.update({
      where: { idempotencyKey: key },
      data: { repair: { previousText: "not json", error: "expected JSON" } },
    });

    const call = await getCallForRun(db.prisma, key);
    const row = await db.prisma.modelCall.findUniqueOrThrow({ where: { idempotencyKey: key } });
    const { response: _response, responseText: _text, request: _request, repair: _repair, ...columns } = row;
    expect(call).toMatchObject(columns);
    expect(call).not.toHaveProperty("response");
    expect(call).not.toHaveProperty("responseText");
    expect(call?.status).toBe("pending");
    expect(call?.request).toMatchObject({ system: "be brief", prompt: "the a prompt", meta: { task: "a" } });
    expect(call?.repair).toEqual({ previousText: "not json", error: "expected JSON" });
    expect(call?.session.status).toBe("running");
    expect(call?.session.budgetUsd?.toString()).toBe("1.5");
    expect(call?.session.cache).toBe(true);
    expect(call?.session.costUsd.toString()).toBe("0.25");
    expect(call?.costUsd).toBeInstanceOf(Prisma.Decimal);
    expect(call?.createdAt).toBeInstanceOf(Date);
  });

  it("is null for a call that was never journaled", async () => {
    expect(await getCallForRun(db.prisma, `${randomUUID()}.requirements.a`)).toBeNull();
  });
});

describe("the cluster's spend per minute", () => {
  const shardOf = async (sessionId: string) =>
    (
      await db.prisma.$queryRaw<Array<{ shard: number }>>`SELECT (hashtext(${sessionId}) & 15)::int AS shard`
    )[0]?.shard;

  /** Journals, claims and answers one call of the session's phase at `usd`. */
  async function answer(session: { id: string; phase: string }, usd: string, maxSpendPerHourUsd?: number) {
    await ensureCalls(db.prisma, session.id, session.phase, [planned("a", "openai")]);
    const call = await getCall(db.prisma, `${session.id}.${session.phase}.a`);
    if (!call) throw new Error("the call was not journaled");
    const owner = randomUUID();
    const claim = await claimCall(db.prisma, call, {
      owner,
      jobId: "job",
      host: "test",
      pid: 1,
      leaseMs: 60_000,
      ...(maxSpendPerHourUsd !== undefined && { worstUsd: new Prisma.Decimal("0.1"), maxSpendPerHourUsd }),
    });
    if (claim.kind !== "claimed") return claim;
    const usage = { inputTokens: 10, outputTokens: 5 };
    const outcome = {
      value: {},
      text: "{}",
      usage,
      latencyMs: 1,
      cost: new Prisma.Decimal(usd),
      priced: true,
    };
    return { kind: await completeCall(db.prisma, call, owner, outcome) };
  }

  it("keeps sessions' spend in rows of their own, so one's open transaction holds up no other's answer, and sums them", async () => {
    const a = await runningPhase();
    let b = await runningPhase();
    while ((await shardOf(b.id)) === (await shardOf(a.id))) b = await runningPhase();

    // A transaction adding to session a's row of this minute, not committed yet.
    const other = new pg.Client({ connectionString: db.url });
    await other.connect();
    try {
      await other.query("BEGIN");
      await other.query(
        `INSERT INTO spend_minute_shards (minute, shard, usd) VALUES (date_trunc('minute', now()), $1, 0.125)
         ON CONFLICT (minute, shard) DO UPDATE SET usd = spend_minute_shards.usd + EXCLUDED.usd`,
        [await shardOf(a.id)],
      );
      // Session b's answer is stored meanwhile (with one row per minute it waited for that commit).
      const stored = await Promise.race([
        answer(b, "0.5"),
        setTimeout(10_000).then(() => ({ kind: "still waiting for the other transaction" })),
      ]);
      expect(stored).toEqual({ kind: "stored" });
      await other.query("COMMIT");
    } finally {
      await other.end();
    }
    expect(await answer(a, "0.25")).toEqual({ kind: "stored" });

    const rows = await db.prisma.$queryRaw<Array<{ shards: number; usd: Prisma.Decimal }>>`
      SELECT count(DISTINCT shard)::int AS shards, sum(usd) AS usd FROM spend_minute_shards`;
    expect(rows[0]?.shards).toBe(2);
    expect(rows[0]?.usd.toString()).toBe("0.875");
    // The hourly limit sees the sum of the rows, and of what workers of the release before wrote.
    await db.prisma
      .$executeRaw`INSERT INTO spend_minutes (minute, usd) VALUES (date_trunc('minute', now()), 0.0625)`;
    expect(await answer(await runningPhase(), "0", 0.9)).toMatchObject({
      kind: "spend_guard",
      spentUsd: new Prisma.Decimal("0.9375"),
      limitUsd: 0.9,
    });
  });
  it("prunes the spend per minute from before a cutoff and keeps the rest, in both tables", async () => {
    await db.prisma.$executeRaw`DELETE FROM spend_minute_shards`;
    await db.prisma.$executeRaw`DELETE FROM spend_minutes`;
    await db.prisma.$executeRaw`
      INSERT INTO spend_minute_shards (minute, shard, usd) VALUES
        (date_trunc('minute', now() - interval '2 days'), 1, 1), (date_trunc('minute', now() - interval '2 days'), 2, 1),
        (date_trunc('minute', now() - interval '25 hours'), 1, 1), (date_trunc('minute', now() - interval '30 minutes'), 1, 1)`;
    await db.prisma.$executeRaw`
      INSERT INTO spend_minutes (minute, usd) VALUES
        (date_trunc('minute', now() - interval '3 days'), 1), (date_trunc('minute', now()), 1)`;
    expect(await pruneSpend(db.prisma, new Date(Date.now() - SPEND_KEPT_MS))).toBe(4);
    const left = await db.prisma.$queryRaw<Array<{ shards: number; legacy: number }>>`
      SELECT (SELECT count(*) FROM spend_minute_shards)::int AS shards, (SELECT count(*) FROM spend_minutes)::int AS legacy`;
    expect(left[0]).toEqual({ shards: 1, legacy: 1 });
    expect(await pruneSpend(db.prisma, new Date(Date.now() - SPEND_KEPT_MS))).toBe(0);
  });
});
