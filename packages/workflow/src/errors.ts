import { FoundryError } from "@foundry/errors";

/** One problem in a workflow file: where it is and what was expected. */
export interface WorkflowIssue {
  /** Path inside the document, e.g. `phases[3].tasks[0].schema`. */
  path: string;
  message: string;
  /** 1-based line and column when the file is YAML text. */
  line?: number;
  column?: number;
}

/** A workflow file that cannot be used. The message names the file, the path inside it and the reason. */
export class WorkflowError extends FoundryError {
  override readonly name = "WorkflowError";
  readonly file: string;
  readonly issues: readonly WorkflowIssue[];

  constructor(file: string, issues: readonly WorkflowIssue[], options?: { cause?: unknown }) {
    super(`${file}: invalid workflow\n${issues.map((issue) => `  ${formatIssue(file, issue)}`).join("\n")}`, {
      code: "WORKFLOW_INVALID",
      isRetryable: false,
      cause: options?.cause,
    });
    this.file = file;
    this.issues = issues;
  }
}

/** Unknown workflow name (a user error: HTTP 400/404). */
export class UnknownWorkflowError extends FoundryError {
  override readonly name = "UnknownWorkflowError";
  readonly workflow: string;
  readonly available: readonly string[];

  constructor(workflow: string, available: readonly string[]) {
    super(`unknown workflow "${workflow}" (available: ${available.join(", ") || "none"})`, {
      code: "WORKFLOW_NOT_FOUND",
      isRetryable: false,
    });
    this.workflow = workflow;
    this.available = available;
  }
}

function formatIssue(file: string, issue: WorkflowIssue): string {
  const where = issue.line === undefined ? file : `${file}:${issue.line}:${issue.column ?? 1}`;
  return `${where} ${issue.path || "(root)"}: ${issue.message}`;
}

/** Formats a zod-style path (`["phases", 3, "id"]`) as `phases[3].id`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else out += out ? `.${String(key)}` : String(key);
  }
  return out;
}
