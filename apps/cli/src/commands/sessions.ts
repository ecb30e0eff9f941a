import { setTimeout as sleep } from "node:timers/promises";
import { ApiRequestError } from "@foundry/client";
import { CliError } from "../errors.ts";
import { EXIT } from "../exit-codes.ts";
import { formatSession, formatSessionTable } from "../format.ts";
import { printJson } from "../output.ts";
import type { CommandContext, ExitCode } from "./context.ts";
import { followSession } from "./follow.ts";

export interface SubmitOptions {
  workflow?: string;
  publish?: boolean;
  repoName?: string;
  budget?: number;
  wait?: boolean;
  json?: boolean;
}

/**
 * `foundry submit`: prints the new session's id (with `json`, the API's answer); with `wait`,
 * follows it to the end and exits with its outcome.
 */
export async function submitCommand(
  ctx: CommandContext,
  request: string,
  options: SubmitOptions,
): Promise<ExitCode> {
  if (request.trim() === "") {
    throw new CliError(
      "USAGE",
      'the request is empty: say what to build, e.g. foundry submit "Build a todo list app"',
      {
        exitCode: EXIT.usage,
      },
    );
  }
  const client = await ctx.client();
  const session = await client.submit({
    request,
    workflow: options.workflow,
    publish: options.publish || undefined,
    repoName: options.repoName,
    budgetUsd: options.budget,
  });
  if (!options.wait) {
    // Only the id, so that `id=$(foundry submit "…")` works.
    if (options.json) printJson(session);
    else ctx.out.line(session.id);
    return EXIT.ok;
  }
  const out = ctx.progress(options.json);
  out.line(`session ${session.id} submitted (workflow ${session.workflow})`);
  return followSession(client, out, session.id, { json: options.json });
}

/** `foundry watch`: follows a session's events until it ends; exits with its outcome. */
export async function watchCommand(ctx: CommandContext, id: string, options: { json?: boolean }) {
  const client = await ctx.client();
  const out = ctx.progress(options.json);
  out.line(`session ${id}`);
  return followSession(client, out, id, { json: options.json });
}

/** `foundry show`. */
export async function showCommand(ctx: CommandContext, id: string, options: { json?: boolean }) {
  const client = await ctx.client();
  if (options.json) {
    printJson(await client.sessionJson(id));
    return EXIT.ok;
  }
  for (const line of formatSession(await client.session(id), ctx.out.style)) ctx.out.line(line);
  return EXIT.ok;
}

export interface ListOptions {
  limit?: number;
  status?: string;
  cursor?: string;
  json?: boolean;
}

/** `foundry list`: one page of sessions, newest first. */
export async function listCommand(ctx: CommandContext, options: ListOptions): Promise<ExitCode> {
  const page = await (await ctx.client()).listSessions(options);
  const { out } = ctx;
  if (options.json) {
    printJson(page);
    return EXIT.ok;
  }
  if (page.sessions.length === 0) {
    out.line(options.status ? `no ${options.status} sessions` : "no sessions");
    return EXIT.ok;
  }
  for (const line of formatSessionTable(page.sessions, out.style)) out.line(line);
  if (page.nextCursor) {
    const again = [
      "foundry list",
      options.status ? `--status ${options.status}` : "",
      options.limit ? `--limit ${options.limit}` : "",
      `--cursor ${page.nextCursor}`,
    ];
    out.line(out.style.dim(`more: ${again.filter(Boolean).join(" ")}`));
  }
  return EXIT.ok;
}

/** `foundry cancel`: the session is cancelled at once; exit 1 when it had already ended. */
export async function cancelCommand(ctx: CommandContext, id: string, options: { json?: boolean }) {
  const result = await (await ctx.client()).cancel(id);
  if (options.json) printJson(result);
  else ctx.out.line(`session ${result.id} ${result.status}`);
  return EXIT.ok;
}

/**
 * `foundry retry`: resumes a failed, cancelled or over-budget session (with a new budget when
 * given); with `wait`, follows it to the end and exits with its outcome.
 */
export async function retryCommand(
  ctx: CommandContext,
  id: string,
  options: { wait?: boolean; json?: boolean; budget?: number },
): Promise<ExitCode> {
  const client = await ctx.client();
  const result = await client.retry(id, { budgetUsd: options.budget });
  if (options.json && !options.wait) {
    printJson(result);
    return EXIT.ok;
  }
  const out = ctx.progress(options.json);
  out.line(`session ${result.id} ${result.status} again: resuming from the phase that did not finish`);
  return options.wait ? followSession(client, out, id, { json: options.json }) : EXIT.ok;
}

/** How long `delete` waits for the jobs of a session that was just cancelled to stop. */
const JOBS_STOPPING_WAIT_MS = 15_000;

/**
 * `foundry delete`: removes a session that has ended (rows, jobs, workspace). A queued or running
 * session is refused (exit 1) with what to do; one whose jobs are still stopping after a cancel is
 * tried again for a few seconds.
 */
export async function deleteCommand(ctx: CommandContext, id: string, options: { json?: boolean }) {
  const client = await ctx.client();
  const deadline = Date.now() + JOBS_STOPPING_WAIT_MS;
  for (;;) {
    try {
      await client.delete(id);
      break;
    } catch (error) {
      if (!(error instanceof ApiRequestError) || error.status !== 409) throw error;
      if (error.apiCode === "JOBS_IN_FLIGHT" && Date.now() < deadline) {
        await sleep(500);
        continue;
      }
      const hint =
        error.apiCode === "CONFLICT" ? `; to stop it: foundry cancel ${id}, then foundry delete ${id}` : "";
      throw new CliError("REFUSED", `refused: ${error.message}${hint}`, { cause: error });
    }
  }
  if (options.json) printJson({ id, deleted: true });
  else ctx.out.line(`session ${id} deleted`);
  return EXIT.ok;
}
