export { DEFAULT_KEYS, SimulatorConfigError } from "./options.ts";
export { startSimulator } from "./simulator.ts";
export type {
  FaultKind,
  FaultSpec,
  LatencySpec,
  RateLimit,
  RecordedRequest,
  RequestFilter,
  Scenario,
  SimProvider,
  Simulator,
  SimulatorConfigPatch,
  SimulatorOptions,
} from "./types.ts";
