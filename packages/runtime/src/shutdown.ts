/**
 * Runs `stop` once on SIGINT or SIGTERM, then exits; a second signal, or `stop` running past
 * `timeoutMs`, exits at once with status 1.
 */
export function onShutdown(
  stop: (signal: string) => Promise<void>,
  options: { timeoutMs: number; log?: (message: string) => void },
): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) {
      options.log?.(`${signal} again: exiting now`);
      process.exit(1);
    }
    stopping = true;
    options.log?.(`${signal}: shutting down`);
    const timer = setTimeout(() => {
      options.log?.(`shutdown took longer than ${options.timeoutMs} ms: exiting`);
      process.exit(1);
    }, options.timeoutMs + 2_000);
    timer.unref();
    stop(signal).then(
      () => process.exit(0),
      (error: unknown) => {
        options.log?.(`shutdown failed: ${String(error)}`);
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", handler);
  process.on("SIGTERM", handler);
}
