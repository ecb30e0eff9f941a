import type { SessionSummary, SessionView, WorkflowList } from "@foundry/client";
import { type Style, visibleWidth } from "./output.ts";

/** `850 ms`, `12.3 s`, `3 m 05 s`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const seconds = Math.round(ms / 1000);
  return `${Math.floor(seconds / 60)} m ${String(seconds % 60).padStart(2, "0")} s`;
}

/** `$0.0123`: four decimals, as model calls cost fractions of a cent. */
export function formatUsd(usd: number): string {
  return `$${usd.toFixed(4)}`;
}

/** `12,345`. */
export function formatCount(value: number): string {
  return value.toLocaleString("en-US");
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/** `1 call`, `3 calls`. */
export function plural(count: number, noun: string): string {
  return `${formatCount(count)} ${noun}${count === 1 ? "" : "s"}`;
}

export function formatTokens(input: number, output: number): string {
  return `${formatCount(input)} in + ${formatCount(output)} out`;
}

/** Cuts `text` to one line of at most `width` characters. */
export function truncate(text: string, width: number): string {
  const line = text.replace(/\s+/g, " ").trim();
  return line.length > width ? `${line.slice(0, Math.max(0, width - 1))}…` : line;
}

/** Left-aligned columns separated by two spaces; the last column is not padded. */
export function table(rows: readonly (readonly string[])[]): string[] {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, index) => {
      widths[index] = Math.max(widths[index] ?? 0, visibleWidth(cell));
    });
  }
  return rows.map((row) =>
    row
      .map((cell, index) =>
        index === row.length - 1 ? cell : cell + " ".repeat((widths[index] ?? 0) - visibleWidth(cell)),
      )
      .join("  ")
      .trimEnd(),
  );
}

/** A session or phase status, coloured by outcome. */
export function formatStatus(status: string, style: Style): string {
  switch (status) {
    case "succeeded":
      return style.green(status);
    case "failed":
    case "cancelled":
      return style.red(status);
    case "skipped":
      return style.yellow(status);
    default:
      return style.cyan(status);
  }
}

const PHASE_MARKS: Record<string, string> = {
  succeeded: "✓",
  skipped: "↷",
  failed: "✗",
  running: "▸",
  waiting: "…",
};

function elapsed(from: string | null, to: string | null): number | null {
  if (!from) return null;
  return (to ? Date.parse(to) : Date.now()) - Date.parse(from);
}

/** `foundry show`: the whole session as a person wants to read it. */
export function formatSession(view: SessionView, style: Style): string[] {
  const took = elapsed(view.startedAt ?? view.createdAt, view.finishedAt);
  const lines = table([
    ["session", view.id],
    ["request", truncate(view.request, 100)],
    ["workflow", view.workflow],
    ["status", formatStatus(view.status, style) + (view.currentPhase ? ` (${view.currentPhase})` : "")],
    ["created", view.createdAt ?? "-"],
    ["duration", took === null ? "-" : `${formatDuration(took)}${view.finishedAt ? "" : " so far"}`],
    [
      "totals",
      `${plural(view.totals.calls, "call")} · ${formatTokens(view.totals.inputTokens, view.totals.outputTokens)} tokens · ${formatUsd(view.totals.costUsd)}`,
    ],
    ["workspace", view.workspace ?? "-"],
    ["repository", view.repository ?? (view.publish ? "(not published yet)" : "-")],
    ...(view.error ? [["error", style.red(view.error)]] : []),
  ]);

  lines.push("", style.bold("phases"));
  lines.push(
    ...indent(
      table(
        view.phases.map((phase) => [
          PHASE_MARKS[phase.status] ?? "·",
          phase.id,
          phase.title,
          formatStatus(phase.status, style),
          phase.durationMs === null ? "-" : formatDuration(phase.durationMs),
          phase.skipReason ?? (phase.error ? style.red(phase.error) : ""),
        ]),
      ),
    ),
  );

  lines.push("", style.bold(`calls (${view.calls.length})`));
  lines.push(
    ...indent(
      table(
        view.calls.map((call) => [
          call.phase,
          call.callKey,
          `${call.provider}/${call.model}`,
          formatStatus(call.status, style),
          `${formatCount(call.inputTokens)}+${formatCount(call.outputTokens)} tok`,
          formatUsd(call.costUsd),
          call.worker ? `${call.worker.host}:${call.worker.pid ?? "?"}` : "-",
          call.error ? style.red(truncate(call.error, 80)) : "",
        ]),
      ),
    ),
  );

  lines.push("", style.bold(`files (${view.files.length})`));
  lines.push(
    ...indent(table(view.files.map((file) => [file.path, formatBytes(file.sizeBytes), file.author]))),
  );
  return lines;
}

function indent(lines: string[]): string[] {
  return lines.map((line) => `  ${line}`);
}

/** `foundry list`: one row per session. */
export function formatSessionTable(sessions: readonly SessionSummary[], style: Style): string[] {
  const header = ["ID", "STATUS", "WORKFLOW", "CREATED", "TOKENS", "COST", "REQUEST"].map(style.bold);
  return table([
    header,
    ...sessions.map((session) => [
      session.id,
      formatStatus(session.status, style),
      session.workflow,
      session.createdAt.slice(0, 19).replace("T", " "),
      formatCount(session.totals.inputTokens + session.totals.outputTokens),
      formatUsd(session.totals.costUsd),
      truncate(session.request, 50),
    ]),
  ]);
}

/** `foundry workflows list`. */
export function formatWorkflows(list: WorkflowList, style: Style): string[] {
  return list.workflows.flatMap((workflow) => [
    style.bold(workflow.name) + (workflow.description ? `  ${workflow.description}` : ""),
    `  ${workflow.phases.map((phase) => phase.id).join(" → ")}`,
  ]);
}
