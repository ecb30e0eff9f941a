import type { Prisma } from "@foundry/db";
import { FoundryError } from "@foundry/errors";
import { recordEvent, recordEvents, replaceGeneratedFiles, type SessionForRun } from "@foundry/store";
import type { FilesPhase, RunContext, WorkflowDefinition } from "@foundry/workflow";
import {
  buildProjectReadme,
  type CandidateFile,
  checkFiles,
  type Rejection,
  sessionWorkspace,
  withProjectReadme,
  writeWorkspaceFiles,
} from "@foundry/workspace";
import type { EngineDeps } from "../deps.ts";
import { PhaseInputError } from "../plan.ts";

/** Generated output was refused; the session fails with this message (nothing is written). */
export class FilesRejectedError extends FoundryError {
  override readonly name = "FilesRejectedError";

  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { code: "FILES_REJECTED", isRetryable: false, ...options });
  }
}

const MAX_REJECTION_EVENTS = 50;

/**
 * Collects the files of the phase's sources, checks them as a whole, adds the project README and
 * writes them to Postgres and to the session's workspace. All or nothing.
 */
export async function runFilesPhase(
  deps: EngineDeps,
  session: SessionForRun,
  workflow: WorkflowDefinition,
  phase: FilesPhase,
  context: RunContext,
): Promise<Prisma.InputJsonValue> {
  const candidates = phase.sources.flatMap((source): CandidateFile[] => {
    const [phaseId, taskId] = source.split(".") as [string, string];
    const sourcePhase = workflow.phases.find((candidate) => candidate.id === phaseId);
    const task =
      sourcePhase?.kind === "generate" ? sourcePhase.tasks.find((t) => t.id === taskId) : undefined;
    const files = (context[phaseId] as Record<string, { files?: unknown }> | null | undefined)?.[taskId]
      ?.files;
    if (!Array.isArray(files)) throw new PhaseInputError(`${source} produced no file list`);
    return files.map((file: Record<string, unknown>) => ({
      path: file?.path,
      content: file?.content,
      purpose: file?.purpose,
      author: task?.role ?? phaseId,
      phase: phaseId,
    }));
  });

  const { accepted, rejected, merged } = checkFiles(candidates, deps.fileLimits);
  if (rejected.length > 0) await rejectFiles(deps, session.id, phase.id, rejected);
  for (const merge of merged) {
    await recordEvent(deps.db, {
      sessionId: session.id,
      phase: phase.id,
      type: "file.merged",
      message: `${merge.path} was written identically by ${merge.authors.join(" and ")}; kept once`,
      data: { path: merge.path, authors: merge.authors },
    });
  }

  const files = withProjectReadme(
    accepted,
    buildProjectReadme({
      sessionId: session.id,
      request: session.request,
      workflow,
      context,
      files: accepted,
    }),
    phase.id,
  );

  const root = sessionWorkspace(deps.workspaceDir, session.id);
  await replaceGeneratedFiles(deps.db, session.id, files, { phase: phase.id, workspace: root });
  await writeWorkspaceFiles(root, files);
  return {
    files: files.map((file) => ({
      path: file.path,
      bytes: file.bytes,
      author: file.author,
      phase: file.phase,
    })),
  };
}

/**
 * Records each rejected file as an event (the first 50) and fails the phase with a message that
 * names the first few, so nothing is silently dropped.
 */
export async function rejectFiles(
  deps: EngineDeps,
  sessionId: string,
  phaseId: string,
  rejected: readonly Rejection[],
): Promise<never> {
  await recordEvents(
    deps.db,
    sessionId,
    rejected.slice(0, MAX_REJECTION_EVENTS).map((rejection) => ({
      phase: phaseId,
      type: "file.rejected" as const,
      message: `${rejection.author}: ${rejection.path}: ${rejection.reason}`,
      data: { path: rejection.path, author: rejection.author, reason: rejection.reason },
    })),
  );
  const shown = rejected.slice(0, 5).map((r) => `${r.path} (${r.author}): ${r.reason}`);
  const more = rejected.length > shown.length ? `; and ${rejected.length - shown.length} more` : "";
  throw new FilesRejectedError(`rejected ${rejected.length} generated file(s): ${shown.join("; ")}${more}`);
}
