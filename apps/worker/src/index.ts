export {
  createWorker,
  type EngineSettings,
  type FoundryWorker,
  type WorkerConfig,
  type WorkerResources,
} from "./create-worker.ts";
