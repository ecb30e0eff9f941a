export { SimulatorConfigError } from "./options.ts";
export { startSimulator } from "./simulator.ts";
export type {
  FaultKind,
  FaultSpec,
  LatencySpec,
  ProviderStats,
  RateLimit,
  RecordedRequest,
  RequestFilter,
  Scenario,
  SimProvider,
  SimStats,
  Simulator,
  SimulatorConfigPatch,
  SimulatorOptions,
  StatsOptions,
} from "./types.ts";
