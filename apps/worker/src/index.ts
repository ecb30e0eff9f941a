export { parseQueues, parseWorkerEnv, type WorkerEnv, workerConfigFromEnv } from "./config.ts";
export {
  createWorker,
  type EngineSettings,
  type FoundryWorker,
  type WorkerConfig,
  type WorkerResources,
} from "./create-worker.ts";
