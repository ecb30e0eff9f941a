import { basename, extname } from "node:path";
import { loadWorkflowFile, WorkflowError, type WorkflowIssue } from "@foundry/workflow";
import { formatWorkflows } from "../format.ts";
import type { CommandContext, ExitCode } from "./context.ts";

/** `foundry workflows list`: the workflows the API serves. */
export async function listWorkflowsCommand(ctx: CommandContext): Promise<ExitCode> {
  for (const line of formatWorkflows(await ctx.client().workflows(), ctx.out.style)) ctx.out.line(line);
  return 0;
}

/**
 * `foundry workflows validate <file>`, offline: loads the file as the API would. Prints
 * `ok: <name> (<n> phases)`, or each issue as `file:line:col path: message` on stderr and exits 1.
 */
export async function validateWorkflowCommand(ctx: CommandContext, file: string): Promise<ExitCode> {
  try {
    const workflow = await loadWorkflowFile(file);
    ctx.out.line(`ok: ${workflow.name} (${workflow.phases.length} phases)`);
    const stem = basename(file, extname(file));
    if (workflow.name !== stem) {
      ctx.out.warn(
        `warning: ${file}: name "${workflow.name}" differs from the file name; the API loads it only as ${workflow.name}.yaml`,
      );
    }
    return 0;
  } catch (error) {
    if (!(error instanceof WorkflowError)) throw error;
    for (const issue of error.issues) ctx.out.warn(formatIssue(error.file, issue));
    return 1;
  }
}

function formatIssue(file: string, issue: WorkflowIssue): string {
  const where = issue.line === undefined ? file : `${file}:${issue.line}:${issue.column ?? 1}`;
  return `${where} ${issue.path || "(root)"}: ${issue.message.replace(/\s*\n\s*/g, " ")}`;
}
