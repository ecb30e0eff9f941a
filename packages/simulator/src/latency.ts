import type { LatencySpec } from "./types.ts";

/** The delay to apply now: the fixed value, or a draw from the range. */
export function pickLatency(spec: LatencySpec | undefined, random: () => number): number {
  if (spec === undefined) return 0;
  if (typeof spec === "number") return spec;
  return Math.round(spec.min + random() * (spec.max - spec.min));
}

/** Waits `ms`, or less when the signal aborts; never rejects. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0 || signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}

/** Resolves when the signal aborts: how a hanging request waits for its client or for close(). */
export function untilAborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
}
