// The contract between the runner and the scenario modules (scenarios/*.ts).
import type { Cluster } from "./cluster.ts";
import type { Services } from "./services.ts";
import type { Workload } from "./workload.ts";

/** A value for the full run and one for `--quick`. */
export interface PerForm<T> {
  full: T;
  quick: T;
}

export interface ScenarioContext {
  quick: boolean;
  /** Seeded from --seed and the scenario's name: the same seed picks the same victims. */
  random: () => number;
  services: Services;
  cluster: Cluster;
  workload: Workload;
  /** A progress line, prefixed with the scenario's name and clock. */
  say(line: string): void;
  sleep(ms: number): Promise<void>;
  /**
   * Waits until at least `count` provider calls have started (journaled attempts), so that the fault
   * hits sessions in flight however slow the machine is; gives up after `timeoutMs` with a note.
   */
  untilCallsStarted(count: number, timeoutMs?: number): Promise<void>;
  /** Marks when the fault begins (for the progress lines). */
  faultStarted(what: string): void;
  /** Marks when the fault is over: the recovery bound and "time to recover" count from here. */
  faultEnded(): void;
}

export interface Scenario {
  /** kebab-case, used by --only. */
  name: string;
  /** One line: the fault and its timing. */
  title: string;
  /** The forms that run it by default (`--only` runs any scenario in either form). */
  forms: ReadonlyArray<"full" | "quick">;
  /** Services the scenario needs beyond the standard ones (a Redis to flush or restart). */
  needs?: ReadonlyArray<"redis">;
  /** Variables added to the API's and workers' environment. */
  env?(services: Services, quick: boolean): Record<string, string>;
  /** How long after the fault's end every session must have ended. */
  recoveryMs: PerForm<number>;
  /**
   * Submits the sessions and injects the fault; returns once the fault has ended (it must end every
   * fault it started, and call faultEnded(), or the runner does both when it returns).
   */
  run(ctx: ScenarioContext): Promise<void>;
}

/** Picks the value for the form being run. */
export function pick<T>(value: PerForm<T>, quick: boolean): T {
  return quick ? value.quick : value.full;
}
