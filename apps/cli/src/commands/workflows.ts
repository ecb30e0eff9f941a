import { basename, extname } from "node:path";
import type { WorkflowIssue } from "@foundry/workflow";
import { EXIT } from "../exit-codes.ts";
import { formatWorkflows } from "../format.ts";
import { printJson } from "../output.ts";
import type { CommandContext, ExitCode } from "./context.ts";

/** `foundry workflows list`: the workflows the API serves. */
export async function listWorkflowsCommand(ctx: CommandContext, options: { json?: boolean }) {
  const list = await (await ctx.client()).workflows();
  if (options.json) printJson(list);
  else for (const line of formatWorkflows(list, ctx.out.style)) ctx.out.line(line);
  return EXIT.ok;
}

/**
 * `foundry workflows validate <file>`, offline: loads the file as the API would. Prints
 * `ok: <name> (<n> phases)`, or each issue as `file:line:col path: message` on stderr and exits 1.
 * With `json`: `{ valid: true, file, name, phases }` or `{ valid: false, file, issues }` on stdout.
 */
export async function validateWorkflowCommand(
  ctx: CommandContext,
  file: string,
  options: { json?: boolean },
): Promise<ExitCode> {
  // Loaded here only: the YAML loader is the slowest import, and only this command needs it.
  const { loadWorkflowFile, WorkflowError } = await import("@foundry/workflow");
  try {
    const workflow = await loadWorkflowFile(file);
    if (options.json) {
      printJson({ valid: true, file, name: workflow.name, phases: workflow.phases.map((phase) => phase.id) });
    } else ctx.out.line(`ok: ${workflow.name} (${workflow.phases.length} phases)`);
    const stem = basename(file, extname(file));
    if (workflow.name !== stem) {
      ctx.out.warn(
        `warning: ${file}: name "${workflow.name}" differs from the file name; the API loads it only as ${workflow.name}.yaml`,
      );
    }
    return EXIT.ok;
  } catch (error) {
    if (!(error instanceof WorkflowError)) throw error;
    if (options.json) printJson({ valid: false, file: error.file, issues: error.issues });
    else for (const issue of error.issues) ctx.out.warn(formatIssue(error.file, issue));
    return EXIT.failed;
  }
}

function formatIssue(file: string, issue: WorkflowIssue): string {
  const where = issue.line === undefined ? file : `${file}:${issue.line}:${issue.column ?? 1}`;
  return `${where} ${issue.path || "(root)"}: ${issue.message.replace(/\s*\n\s*/g, " ")}`;
}
