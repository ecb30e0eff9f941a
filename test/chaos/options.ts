// `npm run chaos -- [--quick] [--only a,b] [--backend redis|postgres] [--seed N] [--keep]`: parsed once.
import { parseArgs } from "node:util";
import { FoundryError } from "@foundry/errors";
import { BACKEND_NAMES, type BackendName } from "./backends.ts";

export interface ChaosOptions {
  /** The short form for CI: fewer scenarios, fewer sessions, shorter faults. */
  quick: boolean;
  /** Scenario names to run (in the catalog's order); null: the form's default set. */
  only: string[] | null;
  backend: BackendName;
  /** Drives which worker is killed, fault probabilities and the simulator's latency draws. */
  seed: number;
  /** Keep the run's databases, data directories and generated projects (logs are always kept). */
  keep: boolean;
}

export const USAGE =
  "usage: npm run chaos -- [--quick] [--only <scenario,...>] [--backend redis|postgres] [--seed <n>] [--keep] [--list]";

/** A bad command line; main prints the message and the usage and exits 2. */
export class UsageError extends FoundryError {
  override readonly name = "UsageError";

  constructor(message: string) {
    super(message, { code: "CHAOS_USAGE", isRetryable: false });
  }
}

/** Parses `argv` (without node and the script); `--list` and `--help` are returned as flags. */
export function parseChaosArgs(argv: string[]): ChaosOptions & { list: boolean; help: boolean } {
  let values: ReturnType<typeof parse>["values"];
  try {
    values = parse(argv).values;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const backend = values.backend ?? "redis";
  if (!(BACKEND_NAMES as readonly string[]).includes(backend)) {
    throw new UsageError(`--backend: expected one of ${BACKEND_NAMES.join(", ")}, got "${backend}"`);
  }
  const seed = values.seed === undefined ? 1 : Number(values.seed);
  if (!Number.isSafeInteger(seed) || seed < 0) {
    throw new UsageError(`--seed: expected a non-negative integer, got "${values.seed}"`);
  }
  const only = values.only
    ?.split(",")
    .map((name) => name.trim())
    .filter(Boolean);
  if (only && only.length === 0) throw new UsageError("--only: name at least one scenario");
  return {
    quick: values.quick ?? false,
    only: only ?? null,
    backend: backend as BackendName,
    seed,
    keep: values.keep ?? false,
    list: values.list ?? false,
    help: values.help ?? false,
  };
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      quick: { type: "boolean" },
      only: { type: "string" },
      backend: { type: "string" },
      seed: { type: "string" },
      keep: { type: "boolean" },
      list: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
}
