import { readdir, readFile, stat } from "node:fs/promises";
import { basename, extname, join } from "node:path";
import { type Document, isMap, isSeq, LineCounter, type Node, parseDocument } from "yaml";
import { z } from "zod";
import { type WorkflowDefinition, workflowFileSchema } from "./definition.ts";
import { formatPath, UnknownWorkflowError, WorkflowError, type WorkflowIssue } from "./errors.ts";
import { validateWorkflow } from "./validate.ts";

/** The largest workflow file read: real ones are a few KiB. */
export const MAX_WORKFLOW_BYTES = 256 * 1024;
/** Aliases a workflow may use; the `yaml` package's own default, stated here because it is a limit. */
const MAX_ALIAS_COUNT = 100;

const tooLarge = (file: string, bytes: number) =>
  new WorkflowError(file, [
    { path: "", message: `the file is ${bytes} bytes; a workflow may be at most ${MAX_WORKFLOW_BYTES}` },
  ]);

/**
 * Parses and validates a workflow from YAML text. Throws `WorkflowError` naming `file`, the path
 * inside the document, the line and what was expected — also for a document too large to be a
 * workflow or one whose aliases would expand without bound (a "billion laughs" alias bomb).
 */
export function parseWorkflow(text: string, file: string): WorkflowDefinition {
  const bytes = Buffer.byteLength(text, "utf8");
  if (bytes > MAX_WORKFLOW_BYTES) throw tooLarge(file, bytes);
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (document.errors.length > 0) {
    throw new WorkflowError(
      file,
      document.errors.map((error) => {
        const position = lineCounter.linePos(error.pos[0]);
        return {
          path: "",
          message: `YAML syntax: ${error.message.split("\n")[0]}`,
          line: position.line,
          column: position.col,
        };
      }),
    );
  }
  let value: unknown;
  try {
    value = document.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (cause) {
    // `yaml` throws a bare ReferenceError for an alias bomb or an alias it cannot resolve.
    throw new WorkflowError(
      file,
      [
        {
          path: "",
          message: `YAML aliases: ${(cause as Error).message} (at most ${MAX_ALIAS_COUNT} are expanded)`,
        },
      ],
      { cause },
    );
  }
  const parsed = workflowFileSchema.safeParse(value);
  if (!parsed.success) {
    throw new WorkflowError(
      file,
      parsed.error.issues.map((issue) => locate(document, lineCounter, issue.path, issue.message)),
      { cause: parsed.error },
    );
  }
  const problems = validateWorkflow(parsed.data);
  if (problems.length > 0) {
    throw new WorkflowError(
      file,
      problems.map((problem) => locate(document, lineCounter, pathSegments(problem.path), problem.message)),
    );
  }
  return parsed.data;
}

/** Reads one workflow file (at most {@link MAX_WORKFLOW_BYTES}; a larger one is not read at all). */
export async function loadWorkflowFile(path: string): Promise<WorkflowDefinition> {
  let text: string;
  try {
    const { size } = await stat(path);
    if (size > MAX_WORKFLOW_BYTES) throw tooLarge(path, size);
    text = await readFile(path, "utf8");
  } catch (cause) {
    if (cause instanceof WorkflowError) throw cause;
    throw new WorkflowError(
      path,
      [{ path: "", message: `cannot read file (${(cause as NodeJS.ErrnoException).code ?? cause})` }],
      {
        cause,
      },
    );
  }
  return parseWorkflow(text, path);
}

/** The workflows of a directory, by name. A file whose `name` differs from its file name is an error. */
export class WorkflowCatalog {
  readonly #workflows: ReadonlyMap<string, WorkflowDefinition>;

  constructor(workflows: ReadonlyMap<string, WorkflowDefinition>) {
    this.#workflows = workflows;
  }

  /** Loads every `*.yaml`/`*.yml` in `dir`; the first invalid file throws. */
  static async load(dir: string): Promise<WorkflowCatalog> {
    const entries = (await readdir(dir)).filter((name) => [".yaml", ".yml"].includes(extname(name))).sort();
    const workflows = new Map<string, WorkflowDefinition>();
    for (const entry of entries) {
      const file = join(dir, entry);
      const workflow = await loadWorkflowFile(file);
      const expected = basename(entry, extname(entry));
      if (workflow.name !== expected) {
        throw new WorkflowError(file, [
          { path: "name", message: `name "${workflow.name}" must equal the file name ("${expected}")` },
        ]);
      }
      workflows.set(expected, workflow);
    }
    return new WorkflowCatalog(workflows);
  }

  names(): string[] {
    return [...this.#workflows.keys()];
  }

  /** @throws UnknownWorkflowError */
  get(name: string): WorkflowDefinition {
    const workflow = this.#workflows.get(name);
    if (!workflow) throw new UnknownWorkflowError(name, this.names());
    return workflow;
  }
}

/** A stored snapshot read back from the database, checked again so a bad row fails loudly. */
export function workflowFromSnapshot(snapshot: unknown, sessionId: string): WorkflowDefinition {
  const parsed = workflowFileSchema.safeParse(snapshot);
  if (!parsed.success) {
    throw new WorkflowError(`session ${sessionId} (stored workflow)`, [
      { path: "", message: z.prettifyError(parsed.error) },
    ]);
  }
  return parsed.data;
}

function locate(
  document: Document,
  lineCounter: LineCounter,
  path: readonly PropertyKey[],
  message: string,
): WorkflowIssue {
  const issue: WorkflowIssue = { path: formatPath(path), message };
  // The deepest node that exists along the path gives the line (a missing key points at its parent).
  for (let depth = path.length; depth >= 0; depth--) {
    const node = document.getIn(path.slice(0, depth) as unknown[], true) as Node | undefined;
    const offset = node && (isMap(node) || isSeq(node) || "range" in node) ? node.range?.[0] : undefined;
    if (offset !== undefined) {
      const position = lineCounter.linePos(offset);
      issue.line = position.line;
      issue.column = position.col;
      break;
    }
  }
  return issue;
}

function pathSegments(path: string): PropertyKey[] {
  return Array.from(path.matchAll(/([^.[\]]+)|\[(\d+)\]/g), (match) =>
    match[2] === undefined ? (match[1] as string) : Number(match[2]),
  );
}
