import type { FaultKind, RecordedRequest, RequestFilter } from "./types.ts";

/** The header our adapters send our own request id in. */
const REQUEST_ID_HEADER = "x-foundry-request-id";

export type RecordStart = Omit<RecordedRequest, "seq" | "status" | "fault" | "respondedAt">;

/** Keeps the most recent requests, newest last, for tests and the admin API. */
export class Recorder {
  #entries: RecordedRequest[] = [];
  #seq = 0;
  readonly #max: number;

  constructor(max: number) {
    this.#max = max;
  }

  begin(start: RecordStart): RecordedRequest {
    this.#seq += 1;
    const entry: RecordedRequest = { seq: this.#seq, ...start, status: 0, fault: null, respondedAt: null };
    this.#entries.push(entry);
    if (this.#entries.length > this.#max) this.#entries.splice(0, this.#entries.length - this.#max);
    return entry;
  }

  markFault(entry: RecordedRequest, fault: FaultKind): void {
    entry.fault = fault;
  }

  finish(entry: RecordedRequest, status: number): void {
    entry.status = status;
    entry.respondedAt = Date.now();
  }

  /** Copies, so that callers cannot change the record. */
  list(filter: RequestFilter = {}): RecordedRequest[] {
    return this.#entries
      .filter((entry) => filter.provider === undefined || entry.provider === filter.provider)
      .filter((entry) => filter.schemaName === undefined || entry.schemaName === filter.schemaName)
      .filter(
        (entry) => filter.requestId === undefined || entry.headers[REQUEST_ID_HEADER] === filter.requestId,
      )
      .map((entry) => structuredClone(entry));
  }

  clear(): void {
    this.#entries = [];
  }
}
