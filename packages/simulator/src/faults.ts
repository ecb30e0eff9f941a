import type { FaultSpec, SimProvider } from "./types.ts";

interface ActiveFault {
  spec: FaultSpec;
  remaining: number;
}

/** The injected faults, in the order they were added; the first matching one that fires wins. */
export class FaultBook {
  #faults: ActiveFault[] = [];
  readonly #random: () => number;

  constructor(random: () => number) {
    this.#random = random;
  }

  add(spec: FaultSpec): void {
    const times = spec.times === undefined ? 1 : spec.times === null ? Number.POSITIVE_INFINITY : spec.times;
    this.#faults.push({ spec: { ...spec }, remaining: times });
  }

  clear(): void {
    this.#faults = [];
  }

  /** The active faults with the hits they have left in `times` (Infinity when unlimited). */
  list(): FaultSpec[] {
    return this.#faults.map(({ spec, remaining }) => ({ ...spec, times: remaining }));
  }

  /**
   * The fault to apply to a request, if any, counting the hit. A fault scoped to a schema name
   * never matches a request without one. Probability is drawn only for matching faults.
   */
  take(provider: SimProvider, schemaName: string | null): FaultSpec | null {
    for (const fault of this.#faults) {
      const { spec } = fault;
      if (spec.provider !== undefined && spec.provider !== provider) continue;
      if (spec.schemaName !== undefined && spec.schemaName !== schemaName) continue;
      const probability = spec.probability ?? 1;
      if (probability < 1 && this.#random() >= probability) continue;
      fault.remaining -= 1;
      if (fault.remaining <= 0) this.#faults = this.#faults.filter((f) => f !== fault);
      return spec;
    }
    return null;
  }
}
