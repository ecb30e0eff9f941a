// The end of a run: one table row per scenario, the failure reasons and notes under it, and the
// summary line, which is always the last line printed.
import type { ScenarioResult } from "./runner.ts";

const COLUMNS = [
  "scenario",
  "sessions",
  "succeeded",
  "failed",
  "hung",
  "provider requests",
  "answers stored",
  "sent >1× (billed)",
  "unrecorded dups",
  "lost answers",
  "time to recover",
] as const;

export interface Totals {
  scenarios: number;
  sessions: number;
  hung: number;
  lost: number;
  unrecorded: number;
  /** Scenarios that could not be run or measured. */
  errors: number;
}

export function totals(results: readonly ScenarioResult[]): Totals {
  const sum = (get: (result: ScenarioResult) => number) => results.reduce((total, r) => total + get(r), 0);
  return {
    scenarios: results.length,
    sessions: sum((r) => r.metrics?.sessions ?? 0),
    hung: sum((r) => r.metrics?.hung ?? 0),
    lost: sum((r) => r.metrics?.lostAnswers ?? 0),
    unrecorded: sum((r) => r.metrics?.unrecordedDuplicates ?? 0),
    errors: results.filter((r) => r.error !== null).length,
  };
}

/** `chaos: <N> scenarios, <S> sessions, hung <h>, lost answers <l>, unrecorded duplicates <u>` */
export function summaryLine(total: Totals): string {
  return `chaos: ${total.scenarios} scenarios, ${total.sessions} sessions, hung ${total.hung}, lost answers ${total.lost}, unrecorded duplicates ${total.unrecorded}`;
}

/** The table, then failure reasons and notes per scenario (without the summary line). */
export function formatReport(results: readonly ScenarioResult[]): string {
  const rows = results.map((result): string[] => {
    const m = result.metrics;
    if (!m) return [result.name, "harness error", "", "", "", "", "", "", "", "", ""];
    return [
      result.name,
      String(m.sessions),
      String(m.succeeded),
      String(m.failed) + (m.cancelled > 0 ? ` (+${m.cancelled} cancelled)` : ""),
      String(m.hung),
      String(m.providerRequests),
      String(m.answersStored),
      `${m.duplicateCalls} (${m.duplicateCallsBilled} billed)`,
      String(m.unrecordedDuplicates),
      String(m.lostAnswers),
      m.recoverMs === null ? "never (hung)" : `${(m.recoverMs / 1000).toFixed(1)} s`,
    ];
  });
  const header = [...COLUMNS];
  const widths = header.map((title, index) =>
    Math.max(title.length, ...rows.map((row) => row[index]?.length ?? 0)),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, index) =>
        index === 0 ? cell.padEnd(widths[index] ?? 0) : cell.padStart(widths[index] ?? 0),
      )
      .join("  ")
      .trimEnd();
  const out = [line(header), widths.map((width) => "-".repeat(width)).join("  "), ...rows.map(line)];

  const reasons = results.flatMap((result) =>
    (result.metrics?.failureReasons ?? []).map(
      ({ reason, count }) => `  ${result.name}: ${count} × ${reason}`,
    ),
  );
  out.push("", "failed sessions, by reason:", ...(reasons.length > 0 ? reasons : ["  (none)"]));
  out.push("", "notes:");
  for (const result of results) {
    out.push(`  ${result.name} (${(result.durationMs / 1000).toFixed(0)} s):`);
    if (result.error) out.push(`    HARNESS ERROR: ${result.error.split("\n").join("\n      ")}`);
    for (const note of result.notes) out.push(`    ${note}`);
  }
  return out.join("\n");
}
