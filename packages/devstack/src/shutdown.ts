import { inspect } from "node:util";

export interface ShutdownOptions {
  /** Upper bound for all stop functions together; after it the process exits anyway. @default 15_000 */
  timeoutMs?: number;
  /** Where a crash report (uncaught exception or unhandled rejection) is written. @default stderr */
  report?: (text: string) => void;
}

export interface ShutdownHandle {
  /** Runs the stop functions now (once; later calls return the same promise). */
  shutdown(): Promise<void>;
  /** Removes the process listeners (the stop functions are not run). */
  dispose(): void;
}

const SIGNALS = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 } as const;

/**
 * Runs `stops` once, one after another in the given order (put your app before the servers it uses),
 * when the process is told to stop: on SIGINT, SIGTERM or SIGHUP (then exits with 128 + signal number),
 * on an uncaught exception or unhandled rejection (reports it, then exits with 1), and when the event loop
 * runs empty (then exits normally, keeping process.exitCode). A second signal exits at once.
 *
 * The wait is bounded by `timeoutMs`; each server's own stop() already escalates to SIGKILL. A server
 * still running when the process exits, or when it is killed with SIGKILL, is stopped by its lifeline (see
 * lifeline.sh); the next start in the same data dir stops any that survived.
 */
export function installShutdownHandlers(
  stops: ReadonlyArray<() => Promise<void>>,
  options: ShutdownOptions = {},
): ShutdownHandle {
  const timeoutMs = options.timeoutMs ?? 15_000;
  const report = options.report ?? ((text: string) => process.stderr.write(`${text}\n`));
  let running: Promise<void> | undefined;
  let exiting = false;

  const shutdown = () => {
    running ??= (async () => {
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
        timer.unref();
      });
      const all = (async () => {
        for (const stop of stops)
          await stop().catch((error: unknown) => report(`shutdown: ${inspect(error)}`));
      })();
      await Promise.race([all, deadline]);
      clearTimeout(timer);
    })();
    return running;
  };

  const exitAfterShutdown = (code: number) => {
    if (exiting) process.exit(code);
    exiting = true;
    void shutdown().then(() => process.exit(code));
  };
  const onSignal = (signal: NodeJS.Signals) => exitAfterShutdown(SIGNALS[signal as keyof typeof SIGNALS]);
  const onCrash = (error: unknown) => {
    report(inspect(error));
    exitAfterShutdown(1);
  };
  const onBeforeExit = () => {
    void shutdown();
  };

  for (const signal of Object.keys(SIGNALS)) process.on(signal, onSignal);
  process.on("uncaughtException", onCrash);
  process.on("unhandledRejection", onCrash);
  process.on("beforeExit", onBeforeExit);

  return {
    shutdown,
    dispose() {
      for (const signal of Object.keys(SIGNALS)) process.off(signal, onSignal);
      process.off("uncaughtException", onCrash);
      process.off("unhandledRejection", onCrash);
      process.off("beforeExit", onBeforeExit);
    },
  };
}
