import { callUsageSchema, type SessionEvent } from "@foundry/client";
import { formatCount, formatDuration, formatUsd, plural, truncate } from "./format.ts";
import type { Output } from "./output.ts";

const SPINNER = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
const REDRAW_MS = 120;

/**
 * Prints a followed session's events. On a terminal: a line per finished phase and one status line
 * (phase, elapsed, tokens, cost) redrawn in place. Piped: plain lines only, including each phase's
 * start and each model call, so that a log reads on its own.
 */
export class ProgressPrinter {
  readonly #out: Output;
  #startedAt: number | null = null;
  readonly #phaseStarts = new Map<string, number>();
  #phase: string | null = null;
  #tokens = 0;
  #costUsd = 0;
  #calls = 0;
  #timer: NodeJS.Timeout | null = null;
  #frame = 0;
  #statusShown = false;

  constructor(out: Output) {
    this.#out = out;
  }

  /** Starts redrawing the status line (on a terminal). */
  start(): void {
    if (!this.#out.live || this.#timer) return;
    this.#out.stdout.write("\x1b[?25l"); // hide the cursor while redrawing
    this.#timer = setInterval(() => {
      this.#frame = (this.#frame + 1) % SPINNER.length;
      this.#drawStatus();
    }, REDRAW_MS);
    this.#drawStatus();
  }

  /** Stops redrawing and removes the status line. */
  stop(): void {
    if (!this.#timer) return;
    clearInterval(this.#timer);
    this.#timer = null;
    this.#clearStatus();
    this.#out.stdout.write("\x1b[?25h");
  }

  /** Time since the session's first event, by the server's clock. */
  elapsedMs(now = Date.now()): number {
    return this.#startedAt === null ? 0 : Math.max(0, now - this.#startedAt);
  }

  event(event: SessionEvent): void {
    const at = Date.parse(event.at);
    this.#startedAt ??= at;
    if (event.type === "phase.started" && event.phase) {
      this.#phaseStarts.set(event.phase, at);
      this.#phase = event.message;
    } else if (event.type === "phase.succeeded" || event.type === "phase.skipped") {
      this.#phase = null;
    }
    if (event.type === "call.succeeded") {
      const usage = callUsageSchema.safeParse(event.data);
      if (usage.success) {
        this.#tokens += usage.data.inputTokens + usage.data.outputTokens;
        this.#costUsd += usage.data.costUsd;
      }
      this.#calls += 1;
    }
    const line = this.#describe(event, at);
    if (line !== null) this.#print(line);
    else if (this.#out.live) this.#drawStatus();
  }

  /** One plain line for an event, or null for events that only update the status line. */
  #describe(event: SessionEvent, at: number): string | null {
    const { style } = this.#out;
    const live = this.#out.live;
    switch (event.type) {
      case "phase.started":
        return live ? null : `▸ ${event.message}`;
      case "phase.succeeded":
        return `${style.green("✓")} ${event.message}${this.#phaseTook(event.phase, at)}`;
      case "phase.skipped":
        return `${style.yellow("↷")} ${event.message}`;
      case "phase.failed":
        return `${style.red("✗")} ${event.message}${this.#phaseTook(event.phase, at)}`;
      case "call.succeeded":
        return live ? null : style.dim(`    ${event.message}`);
      case "call.retrying":
      case "provider.rate_limited":
        return style.yellow(`    ↻ ${truncate(event.message, 160)}`);
      case "call.failed":
      case "file.rejected":
        return style.red(`    ✗ ${truncate(event.message, 160)}`);
      case "files.written":
      case "git.committed":
      case "git.published":
        return live ? null : style.dim(`    ${event.message}`);
      case "session.failed":
        return style.red(`✗ session failed: ${event.message}`);
      case "session.cancelled":
        return style.red(`✗ session cancelled: ${event.message}`);
      case "session.budget_exceeded":
        return style.yellow(`■ session stopped at its budget: ${event.message}`);
      case "session.retried":
      case "session.requeued":
        return style.cyan(`↻ ${event.message}`);
      default:
        return null;
    }
  }

  #phaseTook(phase: string | null, at: number): string {
    const started = phase ? this.#phaseStarts.get(phase) : undefined;
    return started === undefined ? "" : this.#out.style.dim(` (${formatDuration(at - started)})`);
  }

  #print(line: string): void {
    this.#clearStatus();
    this.#out.line(line);
    if (this.#timer) this.#drawStatus();
  }

  #clearStatus(): void {
    if (!this.#statusShown) return;
    this.#out.stdout.write("\r\x1b[2K");
    this.#statusShown = false;
  }

  #drawStatus(): void {
    if (!this.#timer) return;
    const { style } = this.#out;
    const width = Math.max(40, this.#out.columns() - 1);
    const text = truncate(
      [
        this.#phase ?? "waiting for a worker",
        formatDuration(this.elapsedMs()),
        plural(this.#calls, "call"),
        `${formatCount(this.#tokens)} tokens`,
        formatUsd(this.#costUsd),
      ].join(" · "),
      width - 2,
    );
    this.#out.stdout.write(`\r\x1b[2K${style.cyan(SPINNER[this.#frame] ?? "")} ${text}`);
    this.#statusShown = true;
  }
}
