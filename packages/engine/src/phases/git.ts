import type { Prisma } from "@foundry/db";
import type { WorkflowDefinition } from "@foundry/workflow";
import type { EngineDeps } from "../deps.ts";
import { recordEvent } from "../store/events.ts";
import type { SessionForRun } from "../store/sessions.ts";
import { commitLine, commitPhase, committedPhases, ensureRepository } from "../workspace/git.ts";
import { createOrFindRepository, PublishError, pushRepository } from "../workspace/github.ts";
import { sessionWorkspace, writeWorkspaceFiles } from "../workspace/write.ts";

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
  const files = await deps.db.generatedFile.findMany({
    where: { sessionId: session.id },
    orderBy: { path: "asc" },
  });
  const root = sessionWorkspace(deps.workspaceDir, session.id);
  await writeWorkspaceFiles(root, files);
  const git = await ensureRepository(root);
  const done = await committedPhases(git);

  const order = workflow.phases.map((phase) => phase.id);
  const byPhase = Map.groupBy(files, (file) => file.phase);
  const groups = [...byPhase.entries()].sort(([a], [b]) => order.indexOf(a) - order.indexOf(b));
  for (const [phase, phaseFiles] of groups) {
    if (done.has(phase)) continue;
    const calls = await deps.db.modelCall.findMany({
      where: { sessionId: session.id, phase, status: "succeeded" },
      select: { provider: true, model: true, role: true },
      orderBy: { callKey: "asc" },
    });
    const models = [...new Set(calls.map((call) => `${call.provider}/${call.model} (${call.role})`))];
    const authors = [...new Set(phaseFiles.map((file) => file.author))];
    const title = workflow.phases.find((candidate) => candidate.id === phase)?.title ?? phase;
    const sha = await commitPhase(git, {
      sessionId: session.id,
      request: session.request,
      phase,
      title: `${title} — ${phaseFiles.length} file${phaseFiles.length === 1 ? "" : "s"} by ${authors.join(", ")}`,
      paths: phaseFiles.map((file) => file.path),
      models,
    });
    await recordEvent(deps.db, {
      sessionId: session.id,
      phase: phaseId,
      type: "git.committed",
      message: `committed ${phaseFiles.length === 1 ? phaseFiles[0]?.path : `${phaseFiles.length} files`} from ${phase} as ${sha.slice(0, 12)}`,
      data: { sha, phase, files: phaseFiles.length },
    });
  }

  const log = await git.log();
  const commits = log.all.map((entry) => ({ sha: entry.hash, message: entry.message }));
  let repository = session.repoUrl;
  if (session.publish && deps.github) {
    const name = session.repoName ?? repositoryName(session.request, session.id);
    const repo = await createOrFindRepository(deps.github, {
      name,
      description: commitLine(session.request, 300),
      existingUrl: session.repoUrl,
    });
    // Stored before the push, so a retry after a failed push finds the repository instead of creating it again.
    await deps.db.session.update({
      where: { id: session.id },
      data: { repoUrl: repo.htmlUrl, repoName: name },
    });
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
