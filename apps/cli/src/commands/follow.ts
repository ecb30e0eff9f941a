import type { ApiClient } from "@foundry/client";
import { EXIT, exitCodeForStatus } from "../exit-codes.ts";
import { formatDuration, formatStatus, formatTokens, formatUsd, plural, table } from "../format.ts";
import { type Output, printJson } from "../output.ts";
import { ProgressPrinter } from "../progress.ts";
import type { ExitCode } from "./context.ts";

/**
 * Prints a session's progress from its first event until it ends (following the API's event
 * stream, resumed after the last event received when the connection drops), then a summary, or
 * with `json` the session's JSON on stdout. The exit code is the session's outcome (see
 * exit-codes.ts). Ctrl-C stops following (the session keeps running).
 */
export async function followSession(
  client: ApiClient,
  out: Output,
  id: string,
  options: { json?: boolean } = {},
): Promise<ExitCode> {
  const printer = new ProgressPrinter(out);
  const abort = new AbortController();
  const interrupt = () => abort.abort();
  process.once("SIGINT", interrupt);
  printer.start();
  try {
    await client.follow(id, (event) => printer.event(event), {
      signal: abort.signal,
      onReconnect: ({ reason, delayMs }) =>
        out.warn(`foundry: connection lost (${reason}); resuming in ${formatDuration(delayMs)}…`),
    });
  } catch (error) {
    if (!abort.signal.aborted) throw error;
    printer.stop();
    out.warn(`interrupted: session ${id} keeps running; follow it again with: foundry watch ${id}`);
    return EXIT.interrupted;
  } finally {
    printer.stop();
    process.off("SIGINT", interrupt);
  }

  const view = await client.session(id);
  if (options.json) printJson(await client.sessionJson(id));
  const { style } = out;
  out.line();
  const took = printer.elapsedMs(view.finishedAt ? Date.parse(view.finishedAt) : Date.now());
  const rows = [
    ["session", `${view.id} ${formatStatus(view.status, style)} in ${formatDuration(took)}`],
    [
      "usage",
      `${plural(view.totals.calls, "call")} · ${formatTokens(view.totals.inputTokens, view.totals.outputTokens)} tokens · ${formatUsd(view.totals.costUsd)}`,
    ],
  ];
  if (view.workspace) rows.push(["workspace", view.workspace]);
  if (view.repository) rows.push(["repository", view.repository]);
  if (view.error) rows.push(["error", style.red(view.error)]);
  if (view.status === "cancelled" || view.status === "budget_exceeded") {
    rows.push([
      "resume",
      `foundry retry ${view.id}${view.status === "budget_exceeded" ? " --budget <usd>" : ""}`,
    ]);
  }
  for (const line of table(rows)) out.line(line);
  return exitCodeForStatus(view.status);
}
