// What the scenario's users do: submit sessions through the REST API, and (for the crash between
// insert and flow) leave sessions that have rows but no flow.
import { setTimeout as sleep } from "node:timers/promises";
import { ApiClient } from "@foundry/client";
import { createPrisma } from "@foundry/db";
import { submitSession } from "@foundry/engine";
import { type JobKind, jobOptions, type QueueSet } from "@foundry/queue";
import { WorkflowCatalog } from "@foundry/workflow";
import type { Cluster } from "./cluster.ts";

const SUBMIT_TIMEOUT_MS = 10_000;

/** One POST /api/sessions: its id when the API answered 202, or why not. */
export interface Submission {
  request: string;
  at: number;
  id: string | null;
  error: string | null;
}

export interface Workload {
  readonly submissions: readonly Submission[];
  /** Ids of sessions inserted without a flow. */
  readonly orphans: readonly string[];
  /** What the users did besides submitting (`cancel <id>: cancelled`), for the notes. */
  readonly actions: readonly string[];
  /**
   * Submits `count` sessions, one every `everyMs`, without waiting for them; `done()` waits for
   * every answer.
   */
  submit(count: number, everyMs: number): void;
  /**
   * Inserts `count` sessions exactly as POST /api/sessions does (engine's submitSession: the session,
   * its phases and the first event, in one transaction) and then adds no flow: the state an API
   * killed right after the insert leaves. Only a reconciler can start them.
   */
  insertWithoutFlow(count: number): Promise<void>;
  /** POST /api/sessions/:id/cancel, as a user would; false when the API refused. */
  cancel(id: string): Promise<boolean>;
  /** POST /api/sessions/:id/retry; false when the API refused. */
  retry(id: string): Promise<boolean>;
  /** Resolves once `count` submissions have been accepted (202), or after `timeoutMs`. */
  untilAccepted(count: number, timeoutMs: number): Promise<void>;
  /** Resolves when every submission has its answer (or its error). */
  done(): Promise<void>;
}

export function createWorkload(cluster: Cluster, scenario: string, workflowsDir: string): Workload {
  const client = new ApiClient({
    url: cluster.apiUrl,
    token: cluster.apiToken,
    timeoutMs: SUBMIT_TIMEOUT_MS,
  });
  const submissions: Submission[] = [];
  const orphans: string[] = [];
  const actions: string[] = [];
  const act = async (what: "cancel" | "retry", id: string) => {
    try {
      const { status } = await (what === "cancel" ? client.cancel(id) : client.retry(id));
      actions.push(`${what} ${id.slice(0, 8)}: ${status}`);
      return true;
    } catch (error) {
      actions.push(`${what} ${id.slice(0, 8)}: refused (${(error as Error).message})`);
      return false;
    }
  };
  const pending: Array<Promise<void>> = [];
  let next = 1;
  const nextRequest = () => `Build a todo list app (chaos ${scenario} #${next++})`;

  const submitOne = async () => {
    const submission: Submission = { request: nextRequest(), at: Date.now(), id: null, error: null };
    submissions.push(submission);
    try {
      const { id } = await client.submit({ request: submission.request });
      submission.id = id;
    } catch (error) {
      // "cannot reach the API at …: connect ECONNREFUSED …; is it running? (npm run dev)": the cause only.
      submission.error = (error as Error).message.replace(/; is it running\?.*$/, "");
    }
  };

  return {
    submissions,
    orphans,
    actions,
    cancel: (id) => act("cancel", id),
    retry: (id) => act("retry", id),
    submit(count, everyMs) {
      pending.push(
        (async () => {
          const inFlight: Array<Promise<void>> = [];
          for (let index = 0; index < count; index++) {
            if (index > 0) await sleep(everyMs);
            inFlight.push(submitOne());
          }
          await Promise.all(inFlight);
        })(),
      );
    },
    async insertWithoutFlow(count) {
      const db = createPrisma(cluster.databaseUrl, { max: 2 });
      const workflows = await WorkflowCatalog.load(workflowsDir);
      // A queue set whose flow producer accepts the flow and drops it: nothing reaches the queues (so
      // the jobs' options, asked for when the flow is built, are never used).
      const noFlow = {
        flows: { add: async () => undefined },
        jobOptions: (kind: JobKind) => jobOptions(kind, "redis"),
      } as unknown as QueueSet;
      try {
        for (let index = 0; index < count; index++) {
          const { id } = await submitSession({ db, queues: noFlow, workflows }, { request: nextRequest() });
          orphans.push(id);
        }
      } finally {
        await db.$disconnect();
      }
    },
    async untilAccepted(count, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline && submissions.filter((s) => s.id !== null).length < count)
        await sleep(20);
    },
    async done() {
      await Promise.all(pending);
    },
  };
}
