/**
 * Runs `stop` once on SIGINT or SIGTERM — or, for a process started by a launcher with an IPC
 * channel (`npm run demo`, `npm run dev`), when that channel closes because the launcher died —
 * then exits. A second signal, or `stop` running past `timeoutMs`, exits at once with status 1.
 */
export function onShutdown(
  stop: (reason: string) => Promise<void>,
  options: { timeoutMs: number; log?: (message: string) => void },
): void {
  let stopping = false;
  const handler = (reason: string) => {
    if (stopping) {
      options.log?.(`${reason} again: exiting now`);
      process.exit(1);
    }
    stopping = true;
    options.log?.(`${reason}: shutting down`);
    const timer = setTimeout(() => {
      options.log?.(`shutdown took longer than ${options.timeoutMs} ms: exiting`);
      process.exit(1);
    }, options.timeoutMs + 2_000);
    timer.unref();
    stop(reason).then(
      () => process.exit(0),
      (error: unknown) => {
        options.log?.(`shutdown failed: ${String(error)}`);
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", () => handler("SIGINT"));
  process.on("SIGTERM", () => handler("SIGTERM"));
  if (process.connected) process.on("disconnect", () => handler("launcher gone"));
}
