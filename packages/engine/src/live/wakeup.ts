/**
 * A flag a waiter can sleep on: `notify()` wakes the current `wait()`, or makes the next one
 * return at once, so a notification that comes while the waiter is busy is never lost.
 */
export class Wakeup {
  #pending = false;
  #wake: (() => void) | undefined;

  notify(): void {
    this.#pending = true;
    this.#wake?.();
  }

  /** Forgets earlier notifications: call it before reading what they announce. */
  reset(): void {
    this.#pending = false;
  }

  /** Resolves on a notification, after `timeoutMs`, or when `signal` aborts (never rejects). */
  async wait(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (this.#pending || signal?.aborted) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", done);
        this.#wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      signal?.addEventListener("abort", done, { once: true });
      this.#wake = done;
    });
  }
}
