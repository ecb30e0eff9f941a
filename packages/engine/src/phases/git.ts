import type { Prisma } from "@foundry/db";
import {
  answeredCallModels,
  listGeneratedFiles,
  recordEvent,
  recordEvents,
  type SessionForRun,
  setSessionRepository,
} from "@foundry/store";
import type { WorkflowDefinition } from "@foundry/workflow";
import {
  commitLine,
  commitPhases,
  createOrFindRepository,
  openRepository,
  PublishError,
  phaseCommitMessage,
  pushRepository,
  sessionWorkspace,
  writeWorkspaceFiles,
} from "@foundry/workspace";
import type { EngineDeps } from "../deps.ts";

/**
 * Commits the generated project, one commit per phase that produced files, and publishes it when
 * the session asked to. Files come from Postgres (the workspace is re-materialised if it is gone),
 * and commits already made are recognised by their trailers, so a re-run repeats nothing.
 */
export async function runGitPhase(
  deps: EngineDeps,
  session: SessionForRun,
  workflow: WorkflowDefinition,
  phaseId: string,
): Promise<Prisma.InputJsonValue> {
  if (session.publish && !deps.github) {
    throw new PublishError(
      "publishing to GitHub was requested but GITHUB_TOKEN is not set on the worker; the project is committed locally only if you resubmit without publish",
      "PUBLISH_NOT_CONFIGURED",
    );
  }
  const files = await listGeneratedFiles(deps.db, session.id);
  const root = sessionWorkspace(deps.workspaceDir, session.id);
  await writeWorkspaceFiles(root, files);
  const existing = await openRepository(root);
  const done = new Set(existing.flatMap((commit) => (commit.phase ? [commit.phase] : [])));

  const order = workflow.phases.map((phase) => phase.id);
  const byPhase = Map.groupBy(files, (file) => file.phase);
  const groups = [...byPhase.entries()]
    .filter(([phase]) => !done.has(phase))
    .sort(([a], [b]) => order.indexOf(a) - order.indexOf(b));
  const models = await modelsByPhase(
    deps,
    session.id,
    groups.map(([phase]) => phase),
  );
  const planned = groups.map(([phase, phaseFiles]) => {
    const authors = [...new Set(phaseFiles.map((file) => file.author))];
    const title = workflow.phases.find((candidate) => candidate.id === phase)?.title ?? phase;
    return {
      sessionId: session.id,
      request: session.request,
      phase,
      title: `${title} — ${phaseFiles.length} file${phaseFiles.length === 1 ? "" : "s"} by ${authors.join(", ")}`,
      models: models.get(phase) ?? [],
      files: phaseFiles,
    };
  });
  // Every new commit at once: written by the worker for a new history, else one git fast-import.
  const shas = await commitPhases(root, existing[0]?.sha ?? null, planned);
  await recordEvents(
    deps.db,
    session.id,
    planned.map((commit, index) => ({
      phase: phaseId,
      type: "git.committed" as const,
      message: `committed ${commit.files.length === 1 ? commit.files[0]?.path : `${commit.files.length} files`} from ${commit.phase} as ${shas[index]?.slice(0, 12)}`,
      data: { sha: shas[index] ?? null, phase: commit.phase, files: commit.files.length },
    })),
  );
  // Newest first, as `git log` lists them; subjects only (the phase's output stays small).
  const commits = [
    ...planned
      .map((commit, index) => ({ sha: shas[index] as string, message: phaseCommitMessage(commit) }))
      .reverse(),
    ...existing,
  ].map(({ sha, message }) => ({ sha, message: message.split("\n")[0] ?? "" }));
  let repository = session.repoUrl;
  if (session.publish && deps.github) {
    const name = session.repoName ?? repositoryName(session.request, session.id);
    const repo = await createOrFindRepository(deps.github, {
      name,
      description: commitLine(session.request, 300),
      existingUrl: session.repoUrl,
    });
    // Stored before the push, so a retry after a failed push finds the repository instead of creating it again.
    await setSessionRepository(deps.db, session.id, { url: repo.htmlUrl, name });
    await pushRepository(root, deps.github, repo);
    repository = repo.htmlUrl;
    await recordEvent(deps.db, {
      sessionId: session.id,
      phase: phaseId,
      type: "git.published",
      message: `pushed main to ${repo.htmlUrl}`,
      data: { url: repo.htmlUrl, fullName: repo.fullName },
    });
  }
  return { commits, repository, workspace: root };
}

/** `<provider>/<model> (<role>)` of the answered calls of each phase, in one query. */
async function modelsByPhase(deps: EngineDeps, sessionId: string, phases: readonly string[]) {
  const calls = await answeredCallModels(deps.db, sessionId, phases);
  const byPhase = new Map<string, string[]>();
  for (const call of calls) {
    const list = byPhase.get(call.phase) ?? [];
    const name = `${call.provider}/${call.model} (${call.role})`;
    if (!list.includes(name)) list.push(name);
    byPhase.set(call.phase, list);
  }
  return byPhase;
}

/** `build-a-todo-list-app-1a2b3c4d`: readable, unique per session, valid on GitHub. */
export function repositoryName(request: string, sessionId: string): string {
  const slug = request
    .toLowerCase()
    .normalize("NFKD")
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 48)
    .replace(/-+$/g, "");
  return `${slug || "project"}-${sessionId.slice(0, 8)}`;
}
