import { Prisma, type PrismaClient, queryRows } from "@foundry/db";
import type { ProviderName, RepairInput, Usage } from "@foundry/llm";
import { type CallJobIdColumns, idempotencyKey } from "@foundry/queue";
import type { OutputSchemaName } from "@foundry/workflow";
import { readCallState } from "./calls.ts";
import {
  callStatusOf,
  parseColumn,
  repairOf,
  type StoredRequest,
  sessionStatusOf,
  storedRequestOf,
  storedRequestSchema,
} from "./columns.ts";
import { type Db, EVENTS_CHANNEL, inSession, recordEvent } from "./events.ts";
import type { CallStatus } from "./status.ts";

// The journal of model calls. A call's row is written (pending, with its full request) before its job
// is queued. Sending its request needs a lease on the row (an owner token and an expiry, renewed while
// the request is in flight): a second delivery of the job that finds a live lease waits instead of
// sending, and only the lease holder changes the row's status or stores the answer. Every request
// sent is counted in `attempts`, and every answer received (stored or not) adds its tokens and cost.

/** One model call a phase needs, fully rendered. */
export interface PlannedCall {
  /** Unique within the phase: a task id, or `<item>-<voter>` in a vote. */
  callKey: string;
  role: string;
  provider: ProviderName;
  model: string;
  schemaName: OutputSchemaName;
  system: string;
  prompt: string;
  maxOutputTokens?: number;
  temperature?: number;
  /** The role's providers in order: the first is `provider`/`model`, the rest its fallbacks. */
  route: Array<{ provider: ProviderName; model: string }>;
  /** What the phase needs to interpret the answer (task id, vote item and voter). */
  meta: { task?: string; item?: string; voter?: string };
}

/** What queueing a call's job needs of it: its job id's columns and its key. */
export interface PendingCall extends CallJobIdColumns {
  idempotencyKey: string;
}

/**
 * Journals the phase's calls that are not journaled yet and returns every call of the phase that has
 * no answer yet (the ones that still need a job), in call key order. When there are any, the same
 * statement marks the phase waiting for them, with a `phase.waiting` event naming them: the caller
 * queues their jobs next (a crash in between leaves a waiting phase whose next run queues them).
 */
export async function ensureCalls(
  db: PrismaClient,
  sessionId: string,
  phase: string,
  calls: readonly PlannedCall[],
) {
  // One fixed statement for any number of calls (a prepared statement; Prisma's createMany would
  // compile a query plan for each batch size): the rows travel as one JSON parameter.
  const rows = calls.map((call) => ({
    idempotency_key: idempotencyKey(sessionId, phase, call.callKey),
    call_key: call.callKey,
    role: call.role,
    provider: call.provider,
    model: call.model,
    schema_name: call.schemaName,
    request: {
      system: call.system,
      prompt: call.prompt,
      maxOutputTokens: call.maxOutputTokens,
      temperature: call.temperature,
      route: call.route,
      meta: call.meta,
    } satisfies StoredRequest,
  }));
  // The calls the statement's snapshot shows plus those it inserts (which that snapshot cannot
  // show): complete unless another delivery of the phase journaled some of them meanwhile, and only
  // then are they read again, under a new snapshot.
  const [row] = await queryRows<{ complete: boolean; pending: PendingRow[] | null }>(
    db,
    Prisma.sql`
    WITH x AS (
      SELECT * FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
        AS x(idempotency_key text, call_key text, role text, provider text, model text, schema_name text, request jsonb)),
    inserted AS (
      INSERT INTO model_calls (id, idempotency_key, session_id, phase, call_key, role, provider, model, schema_name, request, status)
      SELECT gen_random_uuid(), x.idempotency_key, ${sessionId}, ${phase}, x.call_key, x.role, x.provider, x.model,
        x.schema_name, x.request, 'pending'
      FROM x
      ON CONFLICT (idempotency_key) DO NOTHING
      RETURNING idempotency_key, call_key, provider, model, fallback_from, status),
    calls AS (
      SELECT idempotency_key, call_key, provider, model, fallback_from, status FROM inserted
      UNION ALL
      SELECT idempotency_key, call_key, provider, model, fallback_from, status FROM model_calls
      WHERE session_id = ${sessionId} AND phase = ${phase}),
    complete AS (
      SELECT NOT EXISTS (SELECT 1 FROM x WHERE x.idempotency_key NOT IN (SELECT idempotency_key FROM calls)) AS ok),
    pending AS (
      SELECT idempotency_key, call_key, provider, model, fallback_from FROM calls WHERE status <> 'succeeded'),
    ${waitingFor(sessionId, phase, Prisma.sql`(SELECT ok FROM complete)`)}
    SELECT (SELECT ok FROM complete) AS complete,
      (SELECT jsonb_agg(to_jsonb(p) ORDER BY p.call_key) FROM pending AS p) AS pending,
      (SELECT count(*) FROM (SELECT pg_notify(${EVENTS_CHANNEL}, ${sessionId}) FROM s) AS n)::int AS announced`,
  );
  if (row?.complete) return (row.pending ?? []).map((call) => pendingCallOf(call, sessionId, phase));
  return waitForPendingCalls(db, sessionId, phase);
}

/** A pending call as the statements below return it. */
interface PendingRow {
  idempotency_key: string;
  call_key: string;
  provider: string;
  model: string;
  fallback_from: string | null;
}

function pendingCallOf(row: PendingRow, sessionId: string, phase: string): PendingCall {
  return {
    idempotencyKey: row.idempotency_key,
    sessionId,
    phase,
    callKey: row.call_key,
    provider: row.provider,
    model: row.model,
    fallbackFrom: row.fallback_from,
  };
}

/**
 * The CTEs that mark the phase waiting for the calls of the CTE `pending`, with a `phase.waiting`
 * event naming them, when there are any and `when` holds: `s` (the session's row, locked first as
 * every writer of a session's rows does), `waiting` and `appended`.
 */
function waitingFor(sessionId: string, phase: string, when: Prisma.Sql): Prisma.Sql {
  return Prisma.sql`
    s AS (SELECT id FROM sessions WHERE id = ${sessionId} AND ${when} AND EXISTS (SELECT 1 FROM pending) FOR UPDATE),
    waiting AS (
      UPDATE phase_runs AS r SET status = 'waiting'
      FROM s WHERE r.session_id = s.id AND r.phase = ${phase} AND r.status IN ('running', 'waiting')
      RETURNING r.id),
    appended AS (
      INSERT INTO session_events (session_id, type, phase, message, data, at)
      SELECT s.id, 'phase.waiting', ${phase},
        'waiting for ' || count(*) || ' model call(s): ' || string_agg(p.call_key || ' → ' || p.provider, ', ' ORDER BY p.call_key),
        jsonb_build_object('calls', jsonb_agg(p.call_key ORDER BY p.call_key)), clock_timestamp()
      FROM s, pending AS p GROUP BY s.id)`;
}

/**
 * The phase's calls without an answer, read afresh, and the phase marked waiting for them (with its
 * `phase.waiting` event) when there are any: for a phase job back from waiting whose calls still
 * lack answers, and after a concurrent journaling (see ensureCalls).
 */
export async function waitForPendingCalls(
  db: PrismaClient,
  sessionId: string,
  phase: string,
): Promise<PendingCall[]> {
  const pending = await queryRows<PendingRow>(
    db,
    Prisma.sql`
    WITH pending AS (
      SELECT idempotency_key, call_key, provider, model, fallback_from FROM model_calls
      WHERE session_id = ${sessionId} AND phase = ${phase} AND status <> 'succeeded'),
    ${waitingFor(sessionId, phase, Prisma.sql`true`)}
    SELECT p.*, (SELECT count(*) FROM (SELECT pg_notify(${EVENTS_CHANNEL}, ${sessionId}) FROM s) AS n)::int AS announced
    FROM pending AS p ORDER BY p.call_key`,
  );
  return pending.map((row) => pendingCallOf(row, sessionId, phase));
}

/** A call's row with its status, request and repair parsed (see columns.ts). */
function journaled<T extends { idempotencyKey: string; status: string; request: unknown; repair: unknown }>(
  row: T,
): Omit<T, "status" | "request" | "repair"> & {
  status: CallStatus;
  request: StoredRequest;
  repair: RepairInput | null;
} {
  return { ...row, status: callStatusOf(row), request: storedRequestOf(row), repair: repairOf(row) };
}

export async function getCall(db: Db, key: string) {
  const row = await db.modelCall.findUnique({ where: { idempotencyKey: key } });
  return row && journaled(row);
}

/**
 * A call as its phase needs it to queue its job or gather its answer: not its request (a phase's
 * largest values: each prompt carries the earlier phases' outputs), only the request's `meta`.
 */
export interface PhaseCall extends PendingCall {
  role: string;
  status: CallStatus;
  /** The parsed answer; null until the call succeeded. */
  response: unknown;
  meta: StoredRequest["meta"];
}

const metaSchema = storedRequestSchema.shape.meta;

/** A `model_calls` row as a phase reads it (see succeededCalls and startPhaseRun). */
export interface PhaseCallRow extends PendingRow {
  role: string;
  status: string;
  response: unknown;
  meta: unknown;
}

/** A call row with its status and meta checked. */
export function phaseCallOf(row: PhaseCallRow, sessionId: string, phase: string): PhaseCall {
  const idempotencyKey = row.idempotency_key;
  return {
    ...pendingCallOf(row, sessionId, phase),
    role: row.role,
    status: callStatusOf({ idempotencyKey, status: row.status }),
    response: row.response,
    meta: parseColumn(metaSchema, row.meta, {
      table: "model_calls",
      column: "request",
      row: `idempotency_key ${idempotencyKey}`,
    }),
  };
}

/**
 * Splits a phase's calls into those still without an answer and those answered: what a phase job
 * coming back from waiting needs (startPhaseRun reads them with the session).
 */
export function splitPhaseCalls(calls: readonly PhaseCall[]) {
  return {
    unanswered: calls.filter((call) => call.status !== "succeeded"),
    answered: calls.filter((call) => call.status === "succeeded"),
  };
}

/**
 * A call with what its run needs of its session (status, budget, cache): every column but the answer
 * (a call about to run has none, and reusing one needs only its status). One raw statement, run by
 * queryRows without Prisma's runtime: Prisma's model query (`findUnique` with an `include`) took
 * 0.4–0.9 ms of CPU per read, this statement 0.38–0.42 ms through `$queryRaw` and 0.18–0.28 ms
 * through queryRows, with a 4.5 kB request (bench/README.md, seventh and eighth runs).
 */
export async function getCallForRun(db: Db, key: string) {
  const rows = await queryRows<CallForRunRow>(
    db,
    Prisma.sql`
    SELECT c.id, c.idempotency_key AS "idempotencyKey", c.session_id AS "sessionId", c.phase,
      c.call_key AS "callKey", c.role, c.provider, c.model, c.schema_name AS "schemaName", c.request,
      c.status, c.error, c.error_code AS "errorCode", c.input_tokens AS "inputTokens",
      c.output_tokens AS "outputTokens", c.cost_usd AS "costUsd", c.latency_ms AS "latencyMs", c.attempts,
      c.rate_limit_hits AS "rateLimitHits", c.fallback_from AS "fallbackFrom", c.cached, c.repair,
      c.reserved_usd AS "reservedUsd", c.lease_owner AS "leaseOwner", c.lease_expires_at AS "leaseExpiresAt",
      c.job_id AS "jobId", c.worker_host AS "workerHost", c.worker_pid AS "workerPid",
      c.created_at AS "createdAt", c.started_at AS "startedAt", c.finished_at AS "finishedAt",
      s.status AS "sessionStatus", s.budget_usd AS "sessionBudgetUsd", s.cache AS "sessionCache",
      s.cost_usd AS "sessionCostUsd"
    FROM model_calls AS c JOIN sessions AS s ON s.id = c.session_id
    WHERE c.idempotency_key = ${key}`,
  );
  const row = rows[0];
  if (!row) return null;
  const { sessionStatus, sessionBudgetUsd, sessionCache, sessionCostUsd, costUsd, reservedUsd, ...call } =
    row;
  return {
    ...journaled({ ...call, costUsd: decimal(costUsd), reservedUsd: decimal(reservedUsd) }),
    session: {
      status: sessionStatusOf({ id: row.sessionId, status: sessionStatus }),
      budgetUsd: sessionBudgetUsd === null ? null : decimal(sessionBudgetUsd),
      cache: sessionCache,
      costUsd: decimal(sessionCostUsd),
    },
  };
}

/** A `numeric` column as a Decimal, whether it was read as text (queryRows) or as a Decimal. */
const decimal = (value: Prisma.Decimal | string) => new Prisma.Decimal(value);

/**
 * A `model_calls` row without its answer, with its session's columns (see getCallForRun); `numeric`
 * columns as read by queryRows.
 */
type CallForRunRow = Omit<ModelCallRow, "response" | "responseText" | "costUsd" | "reservedUsd"> & {
  costUsd: Prisma.Decimal | string;
  reservedUsd: Prisma.Decimal | string;
  sessionStatus: string;
  sessionBudgetUsd: Prisma.Decimal | string | null;
  sessionCache: boolean;
  sessionCostUsd: Prisma.Decimal | string;
};

type ModelCallRow = NonNullable<Awaited<ReturnType<PrismaClient["modelCall"]["findUnique"]>>>;

/** A journaled call as its run reads it: every column but the answer, parsed where it is JSON. */
export type JournaledCall = Omit<
  NonNullable<Awaited<ReturnType<typeof getCall>>>,
  "response" | "responseText"
>;

/** Who is about to send a call's request. */
export interface Claimant {
  /** Unique per run of a job: only this token may renew the lease or store the answer. */
  owner: string;
  jobId: string | undefined;
  host: string;
  pid: number;
  leaseMs: number;
  /** The request's worst-case cost, held against the session's budget while it is in flight. */
  worstUsd?: Prisma.Decimal;
  /** Cluster-wide spend limit over the last hour (MAX_SPEND_PER_HOUR_USD). */
  maxSpendPerHourUsd?: number;
}

/** The outcome of trying to claim a call before sending its request. */
export type Claim =
  /** The caller holds the lease and may send attempt number `attempt`. */
  | { kind: "claimed"; attempt: number }
  /** The call has its answer: send nothing. */
  | { kind: "answered" }
  /** Another delivery holds a live lease until `until`: wait, send nothing. */
  | { kind: "leased"; until: Date }
  /** The call ended without an answer (failed or cancelled): send nothing. */
  | { kind: "ended"; status: string; error: string | null }
  /** The session is no longer queued or running: send nothing. */
  | { kind: "session_ended"; status: string }
  /** Sending would risk crossing the session's budget: its spend, what other calls in flight hold, the budget. */
  | { kind: "over_budget"; spentUsd: Prisma.Decimal; heldUsd: Prisma.Decimal; budgetUsd: Prisma.Decimal }
  /** The cluster spent its hourly limit: wait, send nothing. */
  | { kind: "spend_guard"; spentUsd: Prisma.Decimal; limitUsd: number };

/**
 * Claims the call for one request: atomically, only when the session is still active and the call is
 * pending or its lease has expired (or is already the caller's). Counts the attempt and records a
 * `call.started` event; a lease taken over from a holder that stopped renewing it is recorded too,
 * since that holder's request may have been billed.
 */
export async function claimCall(db: PrismaClient, call: JournaledCall, claimant: Claimant): Promise<Claim> {
  // Without a budget to check, the claim is one statement; with one, the budget checks and the claim
  // run in one transaction under the session's row lock. When nothing was claimed, a read says why.
  if (claimant.worstUsd === undefined) {
    const attempt = await claimInOneStatement(db, call, claimant);
    return attempt === null ? whyNotClaimed(db, call) : { kind: "claimed", attempt };
  }
  return inSession(db, call.sessionId, async (tx) => {
    const refused = await checkSpend(tx, call, claimant);
    if (refused) return refused;
    const attempt = await claimInOneStatement(tx, call, claimant);
    return attempt === null ? whyNotClaimed(tx, call) : { kind: "claimed", attempt };
  });
}

/** The `call.started` event of a claim, around the attempt number (known once the row is claimed). */
function startedEvent(call: JournaledCall, claimant: Claimant) {
  const takenOver =
    call.status === "running" && call.leaseOwner !== null && call.leaseOwner !== claimant.owner;
  return {
    head: `${call.role} → ${call.provider}/${call.model} (${call.callKey}, attempt `,
    tail: `)${takenOver ? `; the previous attempt's worker stopped renewing its lease (${call.workerHost}:${call.workerPid}): its request may have been billed, and is counted` : ""}`,
    data: {
      callKey: call.callKey,
      provider: call.provider,
      worker: `${claimant.host}:${claimant.pid}`,
      ...(takenOver && { tookOverFrom: `${call.workerHost}:${call.workerPid}` }),
    },
  };
}

/**
 * The claim of {@link claimCall} as one statement, so one round trip: lock the session's row (first,
 * as every writer of a session's rows does), claim the call, append its `call.started` event and
 * announce it. Returns the attempt number, or null when nothing was claimed (the session ended, the
 * call is answered or ended, or someone else's lease is live).
 */
async function claimInOneStatement(db: Db, call: JournaledCall, claimant: Claimant): Promise<number | null> {
  const started = startedEvent(call, claimant);
  const rows = await queryRows<{ attempts: number }>(
    db,
    Prisma.sql`
    WITH s AS (
      SELECT id FROM sessions WHERE id = ${call.sessionId} AND status IN ('queued', 'running') FOR UPDATE),
    claimed AS (
      UPDATE model_calls AS c SET
        status = 'running',
        attempts = c.attempts + CASE WHEN c.status = 'running' AND c.lease_owner = ${claimant.owner} THEN 0 ELSE 1 END,
        lease_owner = ${claimant.owner},
        lease_expires_at = now() + make_interval(secs => ${claimant.leaseMs / 1000}),
        started_at = coalesce(c.started_at, now()),
        job_id = ${claimant.jobId ?? null},
        worker_host = ${claimant.host},
        worker_pid = ${claimant.pid},
        reserved_usd = ${claimant.worstUsd ?? 0},
        error = NULL,
        error_code = NULL
      FROM s
      WHERE c.idempotency_key = ${call.idempotencyKey}
        AND c.session_id = s.id
        AND (c.status = 'pending'
          OR (c.status = 'running'
            AND (c.lease_owner = ${claimant.owner} OR c.lease_expires_at IS NULL OR c.lease_expires_at < now())))
      RETURNING c.attempts),
    appended AS (
      INSERT INTO session_events (session_id, type, phase, message, data, at)
      SELECT ${call.sessionId}, 'call.started', ${call.phase}, ${started.head} || claimed.attempts || ${started.tail},
        ${JSON.stringify(started.data)}::jsonb || jsonb_build_object('attempt', claimed.attempts), clock_timestamp()
      FROM claimed)
    SELECT claimed.attempts FROM claimed, LATERAL (SELECT pg_notify(${EVENTS_CHANNEL}, ${call.sessionId})) AS announced`,
  );
  return rows[0]?.attempts ?? null;
}

/**
 * The budget checks, under the session's row lock so that calls of one session claimed at once see
 * each other's holds: the session's spend plus the worst case of the calls in flight plus this one's
 * must stay within its budget; and the whole cluster's spend over the last hour within its limit.
 */
async function checkSpend(
  tx: Prisma.TransactionClient,
  call: JournaledCall,
  claimant: Claimant,
): Promise<Claim | null> {
  const worst = claimant.worstUsd;
  if (worst === undefined) return null;
  const [session] = await tx.$queryRaw<
    Array<{ cost_usd: Prisma.Decimal; budget_usd: Prisma.Decimal | null }>
  >`
    SELECT cost_usd, budget_usd FROM sessions WHERE id = ${call.sessionId}`;
  if (session?.budget_usd) {
    const [held] = await tx.$queryRaw<Array<{ held: Prisma.Decimal | null }>>`
      SELECT sum(reserved_usd) AS held FROM model_calls
      WHERE session_id = ${call.sessionId} AND status = 'running' AND idempotency_key <> ${call.idempotencyKey}
        AND lease_expires_at > now()`;
    const heldUsd = held?.held ?? new Prisma.Decimal(0);
    if (session.cost_usd.plus(heldUsd).plus(worst).greaterThan(session.budget_usd)) {
      return { kind: "over_budget", spentUsd: session.cost_usd, heldUsd, budgetUsd: session.budget_usd };
    }
  }
  if (claimant.maxSpendPerHourUsd !== undefined) {
    const [spent] = await tx.$queryRaw<Array<{ usd: Prisma.Decimal | null }>>`
      SELECT (SELECT coalesce(sum(usd), 0) FROM spend_minute_shards WHERE minute > now() - interval '1 hour')
        + (SELECT coalesce(sum(usd), 0) FROM spend_minutes WHERE minute > now() - interval '1 hour') AS usd`;
    const spentUsd = spent?.usd ?? new Prisma.Decimal(0);
    if (spentUsd.plus(worst).greaterThan(claimant.maxSpendPerHourUsd)) {
      return { kind: "spend_guard", spentUsd, limitUsd: claimant.maxSpendPerHourUsd };
    }
  }
  return null;
}

async function whyNotClaimed(db: Db, call: JournaledCall): Promise<Claim> {
  const row = await readCallState(db, call);
  if (!row) return { kind: "session_ended", status: "deleted" };
  if (row.status === "succeeded") return { kind: "answered" };
  if (row.status === "failed" || row.status === "cancelled") {
    return { kind: "ended", status: row.status, error: row.error };
  }
  if (row.session.status !== "queued" && row.session.status !== "running") {
    return { kind: "session_ended", status: row.session.status };
  }
  return { kind: "leased", until: row.leaseExpiresAt ?? new Date() };
}

/**
 * Extends the caller's lease. False when it is no longer the caller's (taken over after it expired,
 * or the call or its session was cancelled): the request in flight should then be abandoned.
 */
export async function renewLease(
  db: PrismaClient,
  key: string,
  owner: string,
  leaseMs: number,
): Promise<boolean> {
  const updated = await db.$executeRaw`
    UPDATE model_calls AS c SET lease_expires_at = now() + make_interval(secs => ${leaseMs / 1000})
    FROM sessions AS s
    WHERE c.idempotency_key = ${key} AND c.lease_owner = ${owner} AND c.status = 'running'
      AND s.id = c.session_id AND s.status IN ('queued', 'running')`;
  return updated > 0;
}

/**
 * Gives the call back (pending, no lease) without a verdict: the worker is shutting down or lost the
 * job, and the request was abandoned. The attempt stays counted. No-op when the lease is not the caller's.
 */
export async function releaseLease(db: PrismaClient, key: string, owner: string): Promise<void> {
  await db.modelCall.updateMany({
    where: { idempotencyKey: key, leaseOwner: owner, status: "running" },
    data: { status: "pending", leaseOwner: null, leaseExpiresAt: null, reservedUsd: 0 },
  });
}

export interface CallOutcome {
  value: unknown;
  text: string;
  usage: Usage;
  latencyMs: number;
  cost: Prisma.Decimal;
  /** False when the price table has no price for the model: the cost is then 0 and says so. */
  priced: boolean;
}

/**
 * Stores a call's answer and adds its tokens and cost to the call and its session, when the caller
 * still holds the lease ("stored"). Otherwise the answer was billed but is not stored ("late"): its
 * usage is added and the row keeps whatever the lease holder writes.
 */
export async function completeCall(
  db: PrismaClient,
  call: JournaledCall,
  owner: string,
  outcome: CallOutcome,
): Promise<"stored" | "late"> {
  if (await completeInOneStatement(db, call, owner, outcome)) return "stored";
  // The lease passed to another delivery (or the call was cancelled) while this request was in
  // flight; it cannot come back to this owner. This answer was billed too: count it, and leave the
  // row to the lease holder.
  await inSession(db, call.sessionId, async (tx) => {
    await addBilledUsage(tx, call, outcome.usage, outcome.cost);
    await recordEvent(tx, {
      sessionId: call.sessionId,
      phase: call.phase,
      type: "call.late_answer",
      message: `${call.callKey}: an answer arrived after this worker's lease had passed on; billed (${outcome.usage.inputTokens}+${outcome.usage.outputTokens} tokens) and not stored`,
      data: {
        callKey: call.callKey,
        inputTokens: outcome.usage.inputTokens,
        outputTokens: outcome.usage.outputTokens,
        costUsd: outcome.cost.toString(),
      },
    });
  });
  return "late";
}

/** The `call.succeeded` event of a stored answer. */
function succeededEvent(call: JournaledCall, outcome: CallOutcome) {
  return {
    message: `${call.provider}/${call.model} answered ${call.callKey} in ${Math.round(outcome.latencyMs)} ms (${outcome.usage.inputTokens}+${outcome.usage.outputTokens} tokens, ${outcome.priced ? `$${outcome.cost.toFixed(6)}` : "no price for this model: cost not counted, set PRICES"})`,
    data: {
      callKey: call.callKey,
      inputTokens: outcome.usage.inputTokens,
      outputTokens: outcome.usage.outputTokens,
      costUsd: outcome.cost.toString(),
      priced: outcome.priced,
      latencyMs: Math.round(outcome.latencyMs),
    },
  };
}

/**
 * Stores the answer of {@link completeCall} in one statement, when the caller still holds the lease:
 * lock the session's row, store the answer on the call, add its usage to the session and to the
 * cluster's spend, append `call.succeeded` and announce it. False when the lease was not the caller's
 * (nothing written: completeCall then records the late answer).
 */
async function completeInOneStatement(
  db: PrismaClient,
  call: JournaledCall,
  owner: string,
  outcome: CallOutcome,
): Promise<boolean> {
  const event = succeededEvent(call, outcome);
  const rows = await queryRows<{ stored: number }>(
    db,
    Prisma.sql`
    WITH s AS (
      SELECT id FROM sessions WHERE id = ${call.sessionId} FOR UPDATE),
    stored AS (
      UPDATE model_calls AS c SET
        status = 'succeeded',
        response = ${JSON.stringify(outcome.value)}::jsonb,
        response_text = ${outcome.text},
        input_tokens = c.input_tokens + ${outcome.usage.inputTokens},
        output_tokens = c.output_tokens + ${outcome.usage.outputTokens},
        cost_usd = c.cost_usd + ${outcome.cost}::numeric,
        latency_ms = ${Math.round(outcome.latencyMs)},
        finished_at = clock_timestamp(),
        lease_owner = NULL,
        lease_expires_at = NULL,
        reserved_usd = 0,
        repair = NULL,
        error = NULL,
        error_code = NULL
      FROM s
      WHERE c.idempotency_key = ${call.idempotencyKey} AND c.session_id = s.id
        AND c.status = 'running' AND c.lease_owner = ${owner}
      RETURNING 1 AS stored),
    spend AS (
      ${addSpend(call.sessionId, outcome.cost, Prisma.sql`FROM stored`)}),
    totals AS (
      UPDATE sessions SET
        input_tokens = sessions.input_tokens + ${outcome.usage.inputTokens},
        output_tokens = sessions.output_tokens + ${outcome.usage.outputTokens},
        cost_usd = sessions.cost_usd + ${outcome.cost}::numeric,
        progress_at = clock_timestamp(),
        updated_at = clock_timestamp()
      FROM stored WHERE sessions.id = ${call.sessionId}),
    appended AS (
      INSERT INTO session_events (session_id, type, phase, message, data, at)
      SELECT ${call.sessionId}, 'call.succeeded', ${call.phase}, ${event.message}, ${JSON.stringify(event.data)}::jsonb, clock_timestamp()
      FROM stored)
    SELECT stored.stored FROM stored, LATERAL (SELECT pg_notify(${EVENTS_CHANNEL}, ${call.sessionId})) AS announced`,
  );
  return rows.length > 0;
}

/**
 * The statement that adds `usd` (when it is not 0) to the session's row of `spend_minute_shards` for
 * the current minute, once per row of `from` (empty: once). A session's spend goes to one of 16 rows
 * per minute, by the session id's hash. With one row per minute (`spend_minutes`, still summed for
 * workers of an older release), every stored answer of the cluster waited on that row's lock for
 * the previous one's commit: under 30 sessions at once, storing an answer took 10 ms in PostgreSQL
 * instead of 2.4, and half of all statement time. A session's writes keep to one row, so no
 * transaction locks two of them (and none can deadlock on them). The hourly limit sums the rows.
 */
function addSpend(sessionId: string, usd: Prisma.Decimal, from: Prisma.Sql): Prisma.Sql {
  return Prisma.sql`
      INSERT INTO spend_minute_shards (minute, shard, usd)
      SELECT date_trunc('minute', now()), (hashtext(${sessionId}) & 15)::smallint, ${usd}::numeric ${from}
      WHERE ${usd}::numeric <> 0
      ON CONFLICT (minute, shard) DO UPDATE SET usd = spend_minute_shards.usd + EXCLUDED.usd`;
}

/**
 * How long the cluster's spend per minute is kept. Only the last hour counts for
 * MAX_SPEND_PER_HOUR_USD; a day is kept for people looking into the database.
 */
export const SPEND_KEPT_MS = 24 * 3_600_000;

/**
 * Deletes the spend per minute (`spend_minute_shards`, and the older release's `spend_minutes`) from
 * before `before`; returns how many rows went. Every stored answer with a cost writes to the current
 * minute's rows (up to 16 a minute), which nothing else removes: the reconciler's leader calls this
 * now and then. A range of each table's primary key.
 */
export async function pruneSpend(db: PrismaClient, before: Date): Promise<number> {
  const [row] = await queryRows<{ pruned: number }>(
    db,
    Prisma.sql`
      WITH shards AS (DELETE FROM spend_minute_shards WHERE minute < ${before} RETURNING 1),
        legacy AS (DELETE FROM spend_minutes WHERE minute < ${before} RETURNING 1)
      SELECT ((SELECT count(*) FROM shards) + (SELECT count(*) FROM legacy))::int AS pruned`,
  );
  return row?.pruned ?? 0;
}

export interface AttemptFailure {
  message: string;
  code: string;
  /** Usage of an answer that came back unusable: billed, so it counts. */
  usage?: Usage;
  cost?: Prisma.Decimal;
  /** The call failed for good; otherwise it goes back to pending for another attempt. */
  final: boolean;
  /** A 429: counted in `rate_limit_hits`. */
  rateLimited?: boolean;
  /** What the next attempt sends back to the model (after malformed output); null clears it. */
  repair?: Prisma.InputJsonValue | null;
}

/**
 * Records a failed attempt, when the caller still holds the lease (returns false otherwise, and changes
 * nothing but the billed usage, which always counts). Returns the call's 429 count after this attempt.
 */
export async function recordFailedAttempt(
  db: PrismaClient,
  call: JournaledCall,
  owner: string,
  failure: AttemptFailure,
): Promise<{ recorded: boolean; rateLimitHits: number }> {
  return inSession(db, call.sessionId, async (tx) => {
    const rows = await tx.$queryRaw<Array<{ rate_limit_hits: number }>>`
      UPDATE model_calls SET
        status = ${failure.final ? "failed" : "pending"},
        error = ${failure.message},
        error_code = ${failure.code},
        finished_at = ${failure.final ? new Date() : null},
        rate_limit_hits = rate_limit_hits + ${failure.rateLimited ? 1 : 0},
        repair = CASE WHEN ${failure.repair !== undefined} THEN ${failure.repair === undefined || failure.repair === null ? null : JSON.stringify(failure.repair)}::jsonb ELSE repair END,
        reserved_usd = 0,
        lease_owner = NULL,
        lease_expires_at = NULL
      WHERE idempotency_key = ${call.idempotencyKey} AND status = 'running' AND lease_owner = ${owner}
      RETURNING rate_limit_hits`;
    if (failure.usage) await addBilledUsage(tx, call, failure.usage, failure.cost);
    const row = rows[0];
    if (!row) return { recorded: false, rateLimitHits: call.rateLimitHits };
    if (!failure.rateLimited || failure.final) {
      await recordEvent(tx, {
        sessionId: call.sessionId,
        phase: call.phase,
        type: failure.final ? "call.failed" : "call.retrying",
        message: `${call.provider}/${call.model} ${call.callKey}: ${failure.message}`,
        data: { callKey: call.callKey, code: failure.code },
      });
    }
    return { recorded: true, rateLimitHits: row.rate_limit_hits };
  });
}

/** Adds tokens and cost that were billed without a stored answer to the call and its session. */
async function addBilledUsage(
  tx: Prisma.TransactionClient,
  call: JournaledCall,
  usage: Usage,
  cost: Prisma.Decimal | undefined,
): Promise<void> {
  await tx.modelCall.update({
    where: { idempotencyKey: call.idempotencyKey },
    data: {
      inputTokens: { increment: usage.inputTokens },
      outputTokens: { increment: usage.outputTokens },
      costUsd: { increment: cost ?? 0 },
    },
  });
  await addToSessionTotals(tx, call.sessionId, usage, cost);
}

/** The phase's answered calls, in call key order. */
export async function succeededCalls(db: Db, sessionId: string, phase: string): Promise<PhaseCall[]> {
  const rows = await queryRows<PhaseCallRow>(
    db,
    Prisma.sql`
    SELECT idempotency_key, call_key, role, provider, model, fallback_from, status, response,
      request->'meta' AS meta
    FROM model_calls
    WHERE session_id = ${sessionId} AND phase = ${phase} AND status = 'succeeded'
    ORDER BY call_key`,
  );
  return rows.map((row) => phaseCallOf(row, sessionId, phase));
}

export type AnsweredCall = PhaseCall;

async function addToSessionTotals(
  tx: Prisma.TransactionClient,
  sessionId: string,
  usage: Usage,
  cost: Prisma.Decimal | undefined,
): Promise<void> {
  const usd = cost ?? new Prisma.Decimal(0);
  // One statement: the session's totals, and the cluster's spend per minute (for MAX_SPEND_PER_HOUR_USD).
  await tx.$executeRaw`
    WITH spend AS (
      ${addSpend(sessionId, usd, Prisma.empty)})
    UPDATE sessions SET
      input_tokens = input_tokens + ${usage.inputTokens},
      output_tokens = output_tokens + ${usage.outputTokens},
      cost_usd = cost_usd + ${usd}::numeric,
      progress_at = clock_timestamp(),
      updated_at = clock_timestamp()
    WHERE id = ${sessionId}`;
}

/**
 * Ends a call that no request is in flight for (pending, or running under an expired lease) with
 * `status`, e.g. when this worker has no key for its provider. False when it was not in that state.
 */
export async function endUnclaimedCall(
  db: PrismaClient,
  call: JournaledCall,
  status: "failed" | "cancelled",
  message: string,
  code: string,
): Promise<boolean> {
  return inSession(db, call.sessionId, async (tx) => {
    const updated = await tx.$executeRaw`
      UPDATE model_calls SET status = ${status}, error = ${message}, error_code = ${code},
        finished_at = now(), lease_owner = NULL, lease_expires_at = NULL
      WHERE idempotency_key = ${call.idempotencyKey}
        AND (status = 'pending' OR (status = 'running' AND (lease_expires_at IS NULL OR lease_expires_at < now())))`;
    if (updated === 0) return false;
    await recordEvent(tx, {
      sessionId: call.sessionId,
      phase: call.phase,
      type: status === "failed" ? "call.failed" : "call.cancelled",
      message: `${call.provider}/${call.model} ${call.callKey}: ${message}`,
      data: { callKey: call.callKey, code },
    });
    return true;
  });
}

/**
 * Moves an unanswered call to the next provider of its route (its fallback): the row now names that
 * provider and model and remembers the first one; attempts made so far stay counted. Fenced like a
 * claim: only when no live lease of someone else holds the call. Returns false when it could not.
 */
export async function rerouteCall(
  db: PrismaClient,
  call: JournaledCall,
  owner: string | null,
  to: { provider: ProviderName; model: string },
  why: string,
): Promise<boolean> {
  return inSession(db, call.sessionId, async (tx) => {
    const from = `${call.provider}/${call.model}`;
    const updated = await tx.$executeRaw`
      UPDATE model_calls SET provider = ${to.provider}, model = ${to.model},
        fallback_from = coalesce(fallback_from, ${from}), status = 'pending',
        lease_owner = NULL, lease_expires_at = NULL, reserved_usd = 0, rate_limit_hits = 0, repair = NULL
      WHERE idempotency_key = ${call.idempotencyKey}
        AND (status = 'pending'
          OR (status = 'running' AND (lease_owner = ${owner} OR lease_expires_at IS NULL OR lease_expires_at < now())))`;
    if (updated === 0) return false;
    await recordEvent(tx, {
      sessionId: call.sessionId,
      phase: call.phase,
      type: "call.fallback",
      message: `${why}; ${call.role} ${call.phase} (${call.callKey}) goes to ${to.provider}/${to.model}`,
      data: { callKey: call.callKey, from, to: `${to.provider}/${to.model}`, why },
    });
    return true;
  });
}

/**
 * Stores an answer taken from the response cache (no request, no cost), when no request for the call
 * is in flight. Returns false when the call was not free to take it.
 */
export async function completeFromCache(
  db: PrismaClient,
  call: JournaledCall,
  entry: {
    key: string;
    response: Prisma.JsonValue;
    responseText: string;
    inputTokens: number;
    outputTokens: number;
  },
): Promise<boolean> {
  return inSession(db, call.sessionId, async (tx) => {
    const updated = await tx.$executeRaw`
      UPDATE model_calls SET status = 'succeeded', cached = true,
        response = ${JSON.stringify(entry.response)}::jsonb, response_text = ${entry.responseText},
        latency_ms = 0, started_at = coalesce(started_at, now()), finished_at = now(),
        lease_owner = NULL, lease_expires_at = NULL, reserved_usd = 0, repair = NULL, error = NULL, error_code = NULL
      WHERE idempotency_key = ${call.idempotencyKey}
        AND (status = 'pending' OR (status = 'running' AND (lease_expires_at IS NULL OR lease_expires_at < now())))`;
    if (updated === 0) return false;
    await tx.$executeRaw`UPDATE response_cache SET hits = hits + 1 WHERE key = ${entry.key}`;
    await tx.session.update({ where: { id: call.sessionId }, data: { progressAt: new Date() } });
    await recordEvent(tx, {
      sessionId: call.sessionId,
      phase: call.phase,
      type: "call.cached",
      message: `${call.provider}/${call.model} ${call.callKey}: answered from the response cache (no request, no cost; it had taken ${entry.inputTokens}+${entry.outputTokens} tokens)`,
      data: { callKey: call.callKey, inputTokens: entry.inputTokens, outputTokens: entry.outputTokens },
    });
    return true;
  });
}
