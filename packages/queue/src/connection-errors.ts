/**
 * What a process is told of its queue store's connection errors: the error, and how many times the
 * same trouble came since it was last reported (0 the first time).
 */
export type QueueErrorListener = (error: Error, repeats: number) => void;

/** How often one trouble is reported again while it lasts. */
const ERROR_REPEAT_INTERVAL_MS = 30_000;

/** Distinct messages remembered at once; the oldest is forgotten first. */
const REMEMBERED_MESSAGES = 64;

/**
 * One report per trouble instead of one per BullMQ object and per retry. While the store is down,
 * ioredis retries every few hundred milliseconds and every queue, flow producer and worker on the
 * connection re-emits each error; on PostgreSQL every queue re-emits each error of the shared pool.
 * BullMQ prints an error that has no listener whole with `console.error`, dozens of lines each:
 * 544 lines in 3 s from the API's queues with Redis down.
 *
 * Here a message is reported the first time it comes, then at most once per `intervalMs`, with the
 * number of times it came in between. An error object already seen (one pool error re-emitted by
 * every queue on the pool) counts once.
 */
export function throttleErrors(
  report: QueueErrorListener,
  options: { intervalMs?: number; now?: () => number } = {},
): (error: unknown) => void {
  const intervalMs = options.intervalMs ?? ERROR_REPEAT_INTERVAL_MS;
  const now = options.now ?? Date.now;
  const seen = new WeakSet<object>();
  const byMessage = new Map<string, { reportedAt: number; repeats: number }>();
  return (thrown) => {
    const error = thrown instanceof Error ? thrown : new Error(String(thrown));
    if (seen.has(error)) return;
    seen.add(error);
    const key = error.message;
    const last = byMessage.get(key);
    const at = now();
    if (last && at - last.reportedAt < intervalMs) {
      last.repeats += 1;
      return;
    }
    byMessage.delete(key);
    byMessage.set(key, { reportedAt: at, repeats: 0 });
    if (byMessage.size > REMEMBERED_MESSAGES) byMessage.delete(byMessage.keys().next().value as string);
    report(error, last?.repeats ?? 0);
  };
}

/** Where errors go when the opener gives no listener: one line each on stderr. */
export const warnOnStderr: QueueErrorListener = (error, repeats) =>
  console.warn(
    `queue store: ${error.message}${repeats > 0 ? ` (${repeats} more since the last report)` : ""}`,
  );
