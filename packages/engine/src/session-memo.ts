import type { KnownSession, PhaseOutput } from "@foundry/store";
import type { WorkflowDefinition } from "@foundry/workflow";

interface Entry {
  workflow?: WorkflowDefinition;
  outputs: Map<string, PhaseOutput>;
}

/** How many sessions an orchestrator process remembers at most (least recently used go first). */
export const SESSION_MEMO_CAPACITY = 256;

/**
 * What this orchestrator process already read or wrote of its sessions and that never changes once
 * stored: each session's workflow snapshot and its succeeded phases' outputs. A phase job then loads
 * only the session's small columns instead of reading and parsing the workflow and every earlier
 * output again. Postgres stays the source of truth: a session this process has not seen (another
 * replica ran its earlier phases, or this one restarted) is read in full, and what is missing is
 * read, never guessed.
 */
export class SessionMemo {
  readonly #sessions = new Map<string, Entry>();
  readonly capacity: number;

  constructor(capacity = SESSION_MEMO_CAPACITY) {
    this.capacity = capacity;
  }

  /** What is known of the session (and it becomes the most recently used). */
  known(sessionId: string): KnownSession | undefined {
    return this.#touch(sessionId);
  }

  #touch(sessionId: string): Entry | undefined {
    const entry = this.#sessions.get(sessionId);
    if (entry) {
      this.#sessions.delete(sessionId);
      this.#sessions.set(sessionId, entry);
    }
    return entry;
  }

  /** Remembers what a load returned: the workflow and the outputs of the phases that succeeded. */
  remember(
    sessionId: string,
    session: {
      workflow: WorkflowDefinition;
      phases: ReadonlyArray<{ phase: string; status: string; output: PhaseOutput }>;
    },
  ): void {
    const entry = this.#entry(sessionId);
    entry.workflow = session.workflow;
    for (const phase of session.phases)
      if (phase.status === "succeeded") entry.outputs.set(phase.phase, phase.output);
  }

  /** Remembers the output of a phase this process has just finished as succeeded. */
  succeeded(sessionId: string, phase: string, output: PhaseOutput): void {
    this.#entry(sessionId).outputs.set(phase, output);
  }

  /** Forgets the session (it ended: nothing will load it again soon). */
  forget(sessionId: string): void {
    this.#sessions.delete(sessionId);
  }

  get size(): number {
    return this.#sessions.size;
  }

  #entry(sessionId: string): Entry {
    let entry = this.#touch(sessionId);
    if (!entry) {
      entry = { outputs: new Map() };
      this.#sessions.set(sessionId, entry);
      for (const oldest of this.#sessions.keys()) {
        if (this.#sessions.size <= this.capacity) break;
        this.#sessions.delete(oldest);
      }
    }
    return entry;
  }
}
