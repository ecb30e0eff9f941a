// A worker process: consumes the queues it is told to (`--queues anthropic`), so each provider's
// workers run and scale separately. SIGTERM drains in-flight jobs (bounded) and exits.
import { parseArgs } from "node:util";
import { providerSettingsFromEnv } from "@foundry/providers";
import { describeQueueBackend } from "@foundry/queue";
import { createLogger, onShutdown } from "@foundry/runtime";
import { GIT_PUSH_ENV_VARS } from "@foundry/workspace";
import { parseQueues, parseWorkerEnv, pickEnv, workerConfigFromEnv } from "./config.ts";
import { createWorker, type FoundryWorker, type WorkerConfig } from "./create-worker.ts";

let env: ReturnType<typeof parseWorkerEnv>;
let config: WorkerConfig;
try {
  const { values } = parseArgs({
    options: { queues: { type: "string" }, concurrency: { type: "string" } },
    strict: true,
  });
  const queues = parseQueues(values.queues ?? process.env.WORKER_QUEUES);
  let concurrency: number | undefined;
  if (values.concurrency !== undefined) {
    concurrency = Number(values.concurrency);
    if (!Number.isInteger(concurrency) || concurrency < 1)
      throw new Error("--concurrency: expected a positive integer");
  }
  env = parseWorkerEnv(process.env);
  config = workerConfigFromEnv(env, {
    queues,
    concurrency,
    providers: providerSettingsFromEnv(process.env),
    gitEnv: pickEnv(process.env, GIT_PUSH_ENV_VARS),
    log: createLogger({ name: "worker", level: env.LOG_LEVEL }),
  });
} catch (error) {
  console.error(`worker: ${(error as Error).message}`);
  console.error(
    "usage: node apps/worker/src/main.ts [--queues orchestrator,openai,anthropic,gemini|all] [--concurrency N]",
  );
  process.exit(1);
}

const { log } = config;
let worker: FoundryWorker;
try {
  worker = await createWorker(config);
} catch (error) {
  console.error(`worker: ${(error as Error).message}`);
  process.exit(1);
}
log.info(
  {
    queues: config.queues,
    providers: worker.providers,
    host: config.engine.worker.host,
    queueBackend: describeQueueBackend(config.queueBackend),
    metrics: worker.metricsUrl,
  },
  `worker consuming ${config.queues.join(", ")}`,
);

onShutdown(
  async () => {
    await worker.close(env.SHUTDOWN_TIMEOUT_MS);
    log.info({}, "stopped");
  },
  // The pool waits SHUTDOWN_TIMEOUT_MS, then up to 5 s for aborted calls to be handed back.
  { timeoutMs: env.SHUTDOWN_TIMEOUT_MS + 8_000, log: (message) => log.info({}, message) },
);
