import { randomUUID } from "node:crypto";
import type { PrismaClient } from "@foundry/db";
import {
  callJobIdFor,
  FINISHED_JOB_CAP_GRACE_MS,
  MAX_FINISHED_JOBS,
  ORCHESTRATOR_QUEUE,
  phaseJobId,
  type QueueSet,
} from "@foundry/queue";
import {
  FINISHED_PHASE_STATUSES,
  listActiveSessions,
  listPhaseStatuses,
  listUnansweredCalls,
  markRequeued,
  pruneSpend,
  releaseLeaderLease,
  SPEND_KEPT_MS,
  takeLeaderLease,
} from "@foundry/store";
import type { WorkflowDefinition } from "@foundry/workflow";
import { removeRunJobs } from "./control.ts";
import { type Failure, failureFromJournal, recordSessionFailure } from "./failures.ts";
import { infrastructureFault } from "./infrastructure.ts";
import type { Logger } from "./logger.ts";
import { buildFlow } from "./submit.ts";

// The reconciler compares PostgreSQL (the source of truth) with the queue, for every session Postgres
// says is queued or running, and repairs what does not match:
// - a session whose jobs were lost (a Redis data loss, or an API that crashed between inserting the
//   session and adding its flow) gets a new run of its flow; finished phases and journaled answers are
//   reused, so nothing is paid again;
// - a session whose root job failed is failed with the reason (the journal's last provider error when
//   there is one), and its rows are brought in line;
// - a session that made no progress for `sessionTimeoutMs` is failed with reason `deadline`.
// One process of the cluster runs it at a time (a lease row in Postgres).

export interface ReconcilerOptions {
  /** Time between passes. @default 5000 */
  intervalMs: number;
  /** The leadership lease; renewed on every pass. @default 3 × intervalMs */
  leaseMs: number;
  /** A session with no progress for this long fails with reason `deadline` (`SESSION_TIMEOUT`). @default 3600000 */
  sessionTimeoutMs: number;
  /**
   * Sessions (and calls) changed more recently than this are left alone, so that a flow being added
   * or a call job being queued right now is not mistaken for a lost one. @default 10000
   */
  graceMs: number;
  /** Sessions looked at per pass (the least recently progressed first). @default 500 */
  batch: number;
  /**
   * How often the leader prunes what only grows otherwise (the spend per minute older than
   * SPEND_KEPT_MS; on PostgreSQL queues, the finished jobs beyond MAX_FINISHED_JOBS), at its first
   * pass and then at most this often. @default 600000
   */
  housekeepingEveryMs: number;
}

const DEFAULT_RECONCILER: ReconcilerOptions = {
  intervalMs: 5_000,
  leaseMs: 15_000,
  sessionTimeoutMs: 3_600_000,
  graceMs: 10_000,
  batch: 500,
  housekeepingEveryMs: 600_000,
};

export interface ReconcilerDeps {
  db: PrismaClient;
  queues: QueueSet;
  log: Logger;
}

/** What one pass did, for logs and tests. */
export interface ReconcileReport {
  checked: number;
  requeued: string[];
  failed: string[];
  deadline: string[];
  /** Rows of spend per minute pruned by this pass's housekeeping (0 when it had none). */
  prunedSpend: number;
  /** Finished jobs beyond the cap removed by this pass's housekeeping (PostgreSQL queues only). */
  cappedJobs: number;
}

/** The row of `leader_leases` whose holder runs the reconciler. */
const LEASE_NAME = "reconciler";

type Verdict = { kind: "alive" } | { kind: "lost"; why: string } | { kind: "failed"; failure: Failure };

export class Reconciler {
  readonly #deps: ReconcilerDeps;
  readonly #options: ReconcilerOptions;
  readonly #owner = `reconciler-${randomUUID()}`;
  /** Sessions that looked lost on the previous pass: a session must look lost twice in a row. */
  #suspects = new Set<string>();
  #timer: NodeJS.Timeout | undefined;
  /** When this process last ran the housekeeping (never: the first pass it leads runs it). */
  #housekeptAt = Number.NEGATIVE_INFINITY;
  #running: Promise<unknown> | undefined;

  constructor(deps: ReconcilerDeps, options: Partial<ReconcilerOptions> = {}) {
    this.#deps = deps;
    const intervalMs = options.intervalMs ?? DEFAULT_RECONCILER.intervalMs;
    this.#options = { ...DEFAULT_RECONCILER, leaseMs: 3 * intervalMs, ...options, intervalMs };
  }

  /** Runs a pass every `intervalMs` until `stop()`. */
  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => {
      if (this.#running) return;
      this.#running = this.tick()
        .catch((error: Error) => {
          const fault = infrastructureFault(error);
          this.#deps.log[fault ? "warn" : "error"]({ error: error.message, fault }, "reconciler pass failed");
        })
        .finally(() => {
          this.#running = undefined;
        });
    }, this.#options.intervalMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running;
    await releaseLeaderLease(this.#deps.db, LEASE_NAME, this.#owner).catch(() => {});
  }

  /**
   * One pass if this process holds (or takes) the leadership lease, with the housekeeping when it is
   * due (which runs even when the pass failed; the pass's error is thrown after it); null otherwise.
   */
  async tick(): Promise<ReconcileReport | null> {
    if (!(await this.#lead())) return null;
    let report: ReconcileReport | undefined;
    let failure: unknown;
    try {
      report = await this.reconcile();
    } catch (error) {
      failure = error;
    }
    const housekeeping = await this.#housekeep();
    if (!report) throw failure;
    return { ...report, ...housekeeping };
  }

  /**
   * When housekeepingEveryMs has passed: prunes the spend per minute older than SPEND_KEPT_MS, and on
   * PostgreSQL queues removes the finished jobs beyond the cap (QueueSet.capFinishedJobs). Each step
   * that fails is logged and tried again at the next pass; this never throws.
   */
  async #housekeep(): Promise<Pick<ReconcileReport, "prunedSpend" | "cappedJobs">> {
    const done = { prunedSpend: 0, cappedJobs: 0 };
    if (Date.now() - this.#housekeptAt < this.#options.housekeepingEveryMs) return done;
    const { db, queues, log } = this.#deps;
    const step = async (what: string, run: () => Promise<number>): Promise<number | null> => {
      try {
        return await run();
      } catch (error) {
        const fault = infrastructureFault(error as Error);
        log[fault ? "warn" : "error"](
          { error: (error as Error).message, fault },
          `housekeeping: could not ${what}`,
        );
        return null;
      }
    };
    const pruned = await step("prune the spend per minute", () =>
      pruneSpend(db, new Date(Date.now() - SPEND_KEPT_MS)),
    );
    // Never nearer than a session may go without progress: its flow may still be gathering calls.
    const graceMs = Math.max(FINISHED_JOB_CAP_GRACE_MS, this.#options.sessionTimeoutMs);
    const capped = await step("cap the finished jobs", () =>
      queues.capFinishedJobs(MAX_FINISHED_JOBS, { graceMs }),
    );
    if (pruned !== null && capped !== null) this.#housekeptAt = Date.now();
    done.prunedSpend = pruned ?? 0;
    done.cappedJobs = capped ?? 0;
    if (done.prunedSpend > 0 || done.cappedJobs > 0) {
      log.info(
        done,
        "housekeeping: pruned the spend per minute older than a day and the finished jobs beyond the cap",
      );
    }
    return done;
  }

  async #lead(): Promise<boolean> {
    return takeLeaderLease(this.#deps.db, LEASE_NAME, this.#owner, this.#options.leaseMs);
  }

  /** Looks at every active session once (regardless of leadership: tests call it directly). */
  async reconcile(): Promise<ReconcileReport> {
    const { db, log } = this.#deps;
    const report: ReconcileReport = {
      checked: 0,
      requeued: [],
      failed: [],
      deadline: [],
      prunedSpend: 0,
      cappedJobs: 0,
    };
    const sessions = await listActiveSessions(db, this.#options.batch);
    const suspects = new Set<string>();
    const now = Date.now();
    for (const session of sessions) {
      report.checked++;
      if (now - session.progressAt.getTime() > this.#options.sessionTimeoutMs) {
        const minutes = Math.round(this.#options.sessionTimeoutMs / 60_000);
        const failure: Failure = {
          reason: `deadline: no progress for ${minutes >= 1 ? `${minutes} min` : `${Math.round(this.#options.sessionTimeoutMs / 1000)} s`} (SESSION_TIMEOUT); last progress at ${session.progressAt.toISOString()}`,
          code: "deadline",
          run: session.run,
        };
        await recordSessionFailure(db, session.id, failure, log, 0);
        await removeRunJobs(this.#deps, session.id, session.run, { attempts: 1 }).catch(() => {});
        report.deadline.push(session.id);
        continue;
      }
      const workflow = session.workflow();
      const verdict = await this.#inspect(session, workflow, now);
      switch (verdict.kind) {
        case "alive":
          break;
        case "failed":
          await recordSessionFailure(db, session.id, { ...verdict.failure, run: session.run }, log, 0);
          report.failed.push(session.id);
          break;
        case "lost": {
          const key = `${session.id}.${session.run}`;
          if (!this.#suspects.has(key)) {
            suspects.add(key);
            break;
          }
          const change = await markRequeued(db, session.id, session.run, verdict.why);
          if (!change.ok) break;
          await removeRunJobs(this.#deps, session.id, session.run, { attempts: 1 }).catch(() => {});
          await this.#deps.queues.flows.add(
            buildFlow(session.id, workflow, change.run, this.#deps.queues.jobOptions("phase")),
          );
          log.warn({ sessionId: session.id, run: change.run, why: verdict.why }, "session re-queued");
          report.requeued.push(session.id);
          break;
        }
        default:
          verdict satisfies never;
      }
    }
    this.#suspects = suspects;
    return report;
  }

  async #inspect(
    session: { id: string; run: number; createdAt: Date; updatedAt: Date },
    workflow: WorkflowDefinition,
    now: number,
  ): Promise<Verdict> {
    const { db, queues } = this.#deps;
    const orchestrator = queues.get(ORCHESTRATOR_QUEUE);
    const settled =
      now - Math.max(session.createdAt.getTime(), session.updatedAt.getTime()) > this.#options.graceMs;
    const last = workflow.phases.at(-1);
    if (!last) return { kind: "alive" };
    const rootState = await orchestrator.getJobState(phaseJobId(session.id, session.run, last.id));
    if (rootState === "unknown") {
      return settled ? { kind: "lost", why: "its jobs are missing from the queue" } : { kind: "alive" };
    }
    if (rootState === "failed") return { kind: "failed", failure: await this.#whyFailed(session, workflow) };
    if (rootState === "completed") return { kind: "alive" };

    // The root waits for the phases before it: the phase in progress must have its job, and a phase
    // waiting for its calls must have a job for each call without an answer.
    const phases = await listPhaseStatuses(db, session.id);
    const current = phases.find((run) => !FINISHED_PHASE_STATUSES.includes(run.status));
    if (!current || current.phase === last.id) return { kind: "alive" };
    const state = await orchestrator.getJobState(phaseJobId(session.id, session.run, current.phase));
    if (state === "unknown") {
      return settled
        ? { kind: "lost", why: `the job of phase ${current.phase} is missing from the queue` }
        : { kind: "alive" };
    }
    if (state === "failed") return { kind: "failed", failure: await this.#whyFailed(session, workflow) };
    if (state !== "waiting-children") return { kind: "alive" };
    const calls = await listUnansweredCalls(
      db,
      session.id,
      current.phase,
      new Date(now - this.#options.graceMs),
    );
    for (const call of calls) {
      const jobId = callJobIdFor(call, session.run);
      if ((await queues.get(call.provider as "openai").getJobState(jobId)) === "unknown") {
        return {
          kind: "lost",
          why: `the job of call ${current.phase}.${call.callKey} is missing from the queue`,
        };
      }
    }
    return { kind: "alive" };
  }

  /** Why a run's flow failed: the journal's last provider error, else the first failed phase job's reason. */
  async #whyFailed(session: { id: string; run: number }, workflow: WorkflowDefinition): Promise<Failure> {
    const orchestrator = this.#deps.queues.get(ORCHESTRATOR_QUEUE);
    let fallback: Failure = {
      reason: "the session's jobs failed (no reason was recorded)",
      code: "internal",
    };
    for (const phase of workflow.phases) {
      const job = await orchestrator.getJob(phaseJobId(session.id, session.run, phase.id));
      if (job?.failedReason) {
        fallback = {
          reason: `phase ${phase.id} failed: ${job.failedReason}`,
          code: codeOfReason(job.failedReason),
          phase: phase.id,
        };
        break;
      }
    }
    return failureFromJournal(this.#deps.db, session.id, fallback);
  }
}

/** The failure code of a job's failed reason written by the engine's own InfrastructureError. */
function codeOfReason(reason: string): Failure["code"] {
  if (reason.startsWith("PostgreSQL unreachable")) return "database";
  if (reason.startsWith("the job queue (Redis) unreachable")) return "queue";
  return "internal";
}
