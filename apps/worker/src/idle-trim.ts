// A worker gives memory back once it has been idle for a while.
//
// After a burst of jobs V8 keeps the heap the burst needed: the young generation stays committed at
// the size it grew to, and the old generation keeps the pages it freed. V8's memory reducer, which
// would return them, did not run in an idle worker: after 100 sessions the four workers of
// `npm run bench:overhead -- --soak 100 --layout per-provider` stayed at 162–195 MB for 45 s of
// idleness. One memory-reducing collection brought every worker to 108–144 MB (bench/README.md,
// eleventh run).

import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import type { JobActivity, Logger } from "@foundry/engine";

/** One trim, as the worker's metrics count it. */
export interface MemoryTrim {
  durationMs: number;
  /** Resident memory before and after, in bytes. */
  rssBefore: number;
  rssAfter: number;
}

export interface IdleTrimOptions {
  /** How long no job may have run before memory is given back. */
  afterMs: number;
  log: Logger;
  /** The collection that gives memory back. @default {@link memoryReducingGc}() */
  collect?: () => void;
  /** Told after each trim (the worker's metrics). */
  onTrim?: (trim: MemoryTrim) => void;
}

/**
 * Runs one memory-reducing collection once no job of this process has run for `afterMs`, and again
 * only after more jobs have run. It hears jobs start and end as the worker pool's `activity`.
 *
 * A trim is a full, synchronous collection: 40–100 ms in a worker's heap, during which a job that
 * arrives waits. That is why it runs only when the worker has nothing to do, once per idle spell.
 *
 * @example
 * const trim = new IdleTrim({ afterMs: 10_000, log });
 * const pool = await startWorkers({ ...options, activity: trim });
 * // on shutdown: trim.close()
 */
export class IdleTrim implements JobActivity {
  readonly #afterMs: number;
  readonly #log: Logger;
  readonly #collect: () => void;
  readonly #onTrim: ((trim: MemoryTrim) => void) | undefined;
  #running = 0;
  /** Whether a job has run since the last trim: an idle worker is trimmed once, not every `afterMs`. */
  #ranSinceTrim = false;
  #lastEndedAt = 0;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(options: IdleTrimOptions) {
    this.#afterMs = options.afterMs;
    this.#log = options.log;
    this.#collect = options.collect ?? memoryReducingGc();
    this.#onTrim = options.onTrim;
  }

  started(): void {
    this.#running += 1;
    this.#ranSinceTrim = true;
  }

  ended(): void {
    this.#running = Math.max(0, this.#running - 1);
    this.#lastEndedAt = performance.now();
    // One timer for the idle spell, not one per job: when it fires early it waits for the rest.
    if (this.#running === 0 && !this.#timer) this.#arm(this.#afterMs);
  }

  /** Gives memory back now. */
  #trim(): void {
    const rssBefore = process.memoryUsage.rss();
    const started = performance.now();
    this.#collect();
    const trim = { durationMs: performance.now() - started, rssBefore, rssAfter: process.memoryUsage.rss() };
    this.#ranSinceTrim = false;
    this.#log.debug(
      {
        durationMs: Math.round(trim.durationMs),
        rssBeforeMb: Math.round(rssBefore / 2 ** 20),
        rssAfterMb: Math.round(trim.rssAfter / 2 ** 20),
      },
      "idle: memory given back",
    );
    this.#onTrim?.(trim);
  }

  /** Stops trimming (the worker is shutting down). */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #arm(delayMs: number): void {
    if (this.#closed) return;
    this.#timer = setTimeout(() => this.#fire(), delayMs);
    // A pending trim never keeps the process alive.
    this.#timer.unref();
  }

  #fire(): void {
    this.#timer = undefined;
    // A job is running: the timer is armed again when the last one ends.
    if (this.#closed || this.#running > 0 || !this.#ranSinceTrim) return;
    const idleMs = performance.now() - this.#lastEndedAt;
    if (idleMs < this.#afterMs) {
      this.#arm(this.#afterMs - idleMs);
      return;
    }
    try {
      this.#trim();
    } catch (error) {
      this.#log.warn({ error: (error as Error).message }, "idle: could not give memory back");
    }
  }
}

/**
 * A collection that gives the heap's free memory back to the system: V8's last-resort collection,
 * which it otherwise runs only before failing an allocation. It collects until nothing more is
 * freed, shrinks the young generation to its minimum, compacts, and unmaps the pages it freed. A
 * regular full collection leaves the heap's committed size, and the process's RSS, where they were.
 *
 * Node exposes V8's `gc` only under `--expose-gc`. Without that flag, the flag is set for as long as
 * it takes to create one context (V8 installs `gc` in each context created while it is set) and
 * cleared again, so the process's own global never gains a `gc`.
 */
export function memoryReducingGc(): () => void {
  let gc = globalThis.gc;
  if (!gc) {
    setFlagsFromString("--expose-gc");
    try {
      gc = runInNewContext("gc") as NodeJS.GCFunction;
    } finally {
      setFlagsFromString("--no-expose-gc");
    }
  }
  const collect = gc;
  return () => collect({ type: "major", execution: "sync", flavor: "last-resort" });
}
