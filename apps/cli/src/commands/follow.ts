import type { ApiClient } from "@foundry/client";
import { formatDuration, formatStatus, formatTokens, formatUsd, plural, table } from "../format.ts";
import type { Output } from "../output.ts";
import { ProgressPrinter } from "../progress.ts";
import type { ExitCode } from "./context.ts";

/** Exit code of a follow that Ctrl-C ended (128 + SIGINT). */
const INTERRUPTED = 130;

/**
 * Prints a session's progress until it ends, then a summary. Exit code 0 only if it succeeded.
 * Ctrl-C stops following (the session keeps running).
 */
export async function followSession(client: ApiClient, out: Output, id: string): Promise<ExitCode> {
  const printer = new ProgressPrinter(out);
  const abort = new AbortController();
  const interrupt = () => abort.abort();
  process.once("SIGINT", interrupt);
  printer.start();
  try {
    await client.follow(id, (event) => printer.event(event), { signal: abort.signal });
  } catch (error) {
    if (!abort.signal.aborted) throw error;
    printer.stop();
    out.warn(`interrupted: session ${id} keeps running; follow it again with: foundry watch ${id}`);
    return INTERRUPTED;
  } finally {
    printer.stop();
    process.off("SIGINT", interrupt);
  }

  const view = await client.session(id);
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
  for (const line of table(rows)) out.line(line);
  return view.status === "succeeded" ? 0 : 1;
}
