// What one scenario did, read from Postgres (sessions, model_calls) and from what the simulator (and
// the quota proxy) received. Definitions, as agreed:
// - provider requests: requests the simulator received during the scenario;
// - answers stored: model_calls rows with status succeeded;
// - a call was sent more than once when n > 1 requests went out for it; it is recorded as billed when
//   its row's `attempts` >= n; unrecorded duplicates = Σ max(0, n − attempts);
// - lost answers: calls that received at least one HTTP 200 but whose row is not succeeded at the end
//   (sessions a user cancelled excepted, and answers that reached a worker the suite killed within
//   a second of the answer: no live worker received them);
// - hung: sessions not in a terminal state (the engine's: succeeded, failed, cancelled,
//   budget_exceeded) when the scenario's bound ends.
import { isTerminalSession } from "@foundry/engine";
import type { RecordedRequest, SimProvider } from "@foundry/simulator";
import type { Kill } from "./processes.ts";

export const REQUEST_ID_HEADER = "x-foundry-request-id";
/** How long before a kill an answer may have arrived and still have died with its worker. */
const DIED_WITH_WORKER_MS = 1_000;

export interface SessionRow {
  id: string;
  status: string;
  error: string | null;
  /** provider, quota, database, queue, deadline, cancelled, … (null before the engine recorded codes). */
  errorCode: string | null;
  createdAt: Date;
  finishedAt: Date | null;
}

export interface CallRow {
  idempotencyKey: string;
  sessionId: string;
  provider: string;
  status: string;
  attempts: number;
  /** The prompt as journaled (what the adapter sends as the user message). */
  prompt: string;
  workerPid: number | null;
}

export interface ScenarioMetrics {
  sessions: number;
  succeeded: number;
  /** Ended without success: failed, or budget_exceeded. */
  failed: number;
  cancelled: number;
  hung: number;
  /** Distinct failure reasons (`[code] reason`, shortened) with how many sessions gave each. */
  failureReasons: Array<{ reason: string; count: number }>;
  providerRequests: number;
  answersStored: number;
  /** Calls sent more than once, and how many of them have attempts >= requests sent. */
  duplicateCalls: number;
  duplicateCallsBilled: number;
  unrecordedDuplicates: number;
  lostAnswers: number;
  /** One line per lost answer: call, its row's status, its session's status. */
  lostDetails: string[];
  /** From the fault's end until every session was terminal; null when some hung. */
  recoverMs: number | null;
  /** How requests were tied to calls: by the request-id header, by the prompt, or not at all. */
  matched: { header: number; prompt: number; unmatched: number };
}

/** Computes the scenario's numbers; `sessions` is the snapshot taken at the bound. */
export function computeMetrics(input: {
  sessions: SessionRow[];
  calls: CallRow[];
  requests: RecordedRequest[];
  kills: readonly Kill[];
  faultEndedAt: number;
}): ScenarioMetrics {
  const { sessions, calls, requests } = input;
  const sessionStatus = new Map(sessions.map((session) => [session.id, session.status]));
  const count = (status: string) => sessions.filter((session) => session.status === status).length;
  const hung = sessions.filter((session) => !isTerminalSession(session.status)).length;
  const failedStatuses = new Set(["failed", "budget_exceeded"]);

  const byKey = new Map(calls.map((call) => [call.idempotencyKey, call]));
  // By prompt alone: a call that fell back to another provider keeps its prompt. Prompts are unique
  // per call in the suite's workflow; one shared by two calls matches neither.
  const byPrompt = new Map<string, CallRow | null>();
  for (const call of calls) byPrompt.set(call.prompt, byPrompt.has(call.prompt) ? null : call);
  const sent = new Map<string, RecordedRequest[]>();
  const matched = { header: 0, prompt: 0, unmatched: 0 };
  for (const request of requests) {
    const header = request.headers[REQUEST_ID_HEADER];
    let call: CallRow | null | undefined;
    if (header) {
      call = byKey.get(header.split("#")[0] ?? "");
      if (call) matched.header++;
    } else {
      const prompt = promptOf(request.provider, request.body);
      call = prompt === null ? null : byPrompt.get(prompt);
      if (call) matched.prompt++;
    }
    if (!call) {
      // A generation request this scenario's journal does not know (a model list is not one).
      if (request.method === "POST") matched.unmatched++;
      continue;
    }
    sent.set(call.idempotencyKey, [...(sent.get(call.idempotencyKey) ?? []), request]);
  }

  let duplicateCalls = 0;
  let duplicateCallsBilled = 0;
  let unrecordedDuplicates = 0;
  const lostDetails: string[] = [];
  for (const call of calls) {
    const out = sent.get(call.idempotencyKey) ?? [];
    if (out.length > 1) {
      duplicateCalls++;
      if (call.attempts >= out.length) duplicateCallsBilled++;
    }
    unrecordedDuplicates += Math.max(0, out.length - call.attempts);
    const answers = out.filter((request) => request.status === 200);
    if (answers.length === 0 || call.status === "succeeded") continue;
    if (sessionStatus.get(call.sessionId) === "cancelled") continue;
    if (answers.every((answer) => diedWithWorker(answer, call, input.kills))) continue;
    lostDetails.push(
      `${call.idempotencyKey}: ${answers.length} answer(s) received, row ${call.status}, session ${sessionStatus.get(call.sessionId) ?? "?"}`,
    );
  }

  const reasons = new Map<string, number>();
  for (const session of sessions) {
    if (!failedStatuses.has(session.status)) continue;
    const code = session.errorCode ?? (session.status === "failed" ? null : session.status);
    const reason = `${code ? `[${code}] ` : ""}${shortReason(session.error)}`;
    reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
  }
  const lastFinish = Math.max(input.faultEndedAt, ...sessions.map((s) => s.finishedAt?.getTime() ?? 0));

  return {
    sessions: sessions.length,
    succeeded: count("succeeded"),
    failed: count("failed") + count("budget_exceeded"),
    cancelled: count("cancelled"),
    hung,
    failureReasons: [...reasons]
      .map(([reason, n]) => ({ reason, count: n }))
      .sort((a, b) => b.count - a.count),
    providerRequests: requests.length,
    answersStored: calls.filter((call) => call.status === "succeeded").length,
    duplicateCalls,
    duplicateCallsBilled,
    unrecordedDuplicates,
    lostAnswers: lostDetails.length,
    lostDetails,
    recoverMs: hung > 0 ? null : lastFinish - input.faultEndedAt,
    matched,
  };
}

/** Whether `answer` reached a worker the suite killed (the one that made the call's last attempt) moments later. */
function diedWithWorker(answer: RecordedRequest, call: CallRow, kills: readonly Kill[]): boolean {
  const answeredAt = answer.respondedAt ?? answer.receivedAt;
  return kills.some(
    (kill) =>
      kill.pid === call.workerPid && answeredAt <= kill.at && kill.at - answeredAt < DIED_WITH_WORKER_MS,
  );
}

/** The user message of a recorded request body, in each provider's wire format (as the adapters send it). */
export function promptOf(provider: SimProvider, body: unknown): string | null {
  const at = (value: unknown, ...path: Array<string | number>): unknown => {
    let current = value;
    for (const key of path) {
      if (typeof current !== "object" || current === null) return undefined;
      current = (current as Record<string | number, unknown>)[key];
    }
    return current;
  };
  let prompt: unknown;
  switch (provider) {
    case "openai": {
      const messages = at(body, "messages");
      const user = Array.isArray(messages)
        ? messages.find((message) => at(message, "role") === "user")
        : undefined;
      prompt = at(user, "content");
      break;
    }
    case "anthropic": {
      prompt = at(body, "messages", 0, "content");
      if (Array.isArray(prompt)) prompt = at(prompt, 0, "text");
      break;
    }
    case "gemini":
      prompt = at(body, "contents", 0, "parts", 0, "text");
      break;
    default:
      return provider satisfies never;
  }
  return typeof prompt === "string" ? prompt : null;
}

/** A failure reason shortened for the table: ids replaced, one line, at most 160 characters. */
export function shortReason(error: string | null): string {
  if (!error) return "(no reason recorded)";
  const line = error
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, "<id>")
    .replace(/\s+/g, " ")
    .trim();
  return line.length > 160 ? `${line.slice(0, 157)}...` : line;
}
