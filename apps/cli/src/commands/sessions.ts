import { formatSession, formatSessionTable } from "../format.ts";
import type { CommandContext, ExitCode } from "./context.ts";
import { followSession } from "./follow.ts";

export interface SubmitOptions {
  workflow?: string;
  publish?: boolean;
  repoName?: string;
  wait?: boolean;
}

/** `foundry submit`: prints the new session's id; with `wait`, follows it to the end. */
export async function submitCommand(
  ctx: CommandContext,
  request: string,
  options: SubmitOptions,
): Promise<ExitCode> {
  const client = ctx.client();
  const session = await client.submit({
    request,
    workflow: options.workflow,
    publish: options.publish || undefined,
    repoName: options.repoName,
  });
  if (!options.wait) {
    // Only the id, so that `id=$(foundry submit "…")` works.
    ctx.out.line(session.id);
    return 0;
  }
  ctx.out.line(`session ${session.id} submitted (workflow ${session.workflow})`);
  return followSession(client, ctx.out, session.id);
}

/** `foundry watch`: follows a session's events until it ends. */
export async function watchCommand(ctx: CommandContext, id: string): Promise<ExitCode> {
  const client = ctx.client();
  ctx.out.line(`session ${id}`);
  return followSession(client, ctx.out, id);
}

/** `foundry show`. */
export async function showCommand(ctx: CommandContext, id: string, options: { json?: boolean }) {
  if (options.json) {
    ctx.out.line(JSON.stringify(await ctx.client().sessionJson(id), null, 2));
    return 0;
  }
  for (const line of formatSession(await ctx.client().session(id), ctx.out.style)) ctx.out.line(line);
  return 0;
}

export interface ListOptions {
  limit?: number;
  status?: string;
  cursor?: string;
  json?: boolean;
}

/** `foundry list`: one page of sessions, newest first. */
export async function listCommand(ctx: CommandContext, options: ListOptions): Promise<ExitCode> {
  const page = await ctx.client().listSessions(options);
  const { out } = ctx;
  if (options.json) {
    out.line(JSON.stringify(page, null, 2));
    return 0;
  }
  if (page.sessions.length === 0) {
    out.line(options.status ? `no ${options.status} sessions` : "no sessions");
    return 0;
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
  return 0;
}

/** `foundry cancel`: the session is cancelled at once; exit 1 when it had already ended. */
export async function cancelCommand(ctx: CommandContext, id: string): Promise<ExitCode> {
  const result = await ctx.client().cancel(id);
  ctx.out.line(`session ${result.id} ${result.status}`);
  return 0;
}

/** `foundry retry`: resumes a failed or cancelled session; with `wait`, follows it to the end. */
export async function retryCommand(
  ctx: CommandContext,
  id: string,
  options: { wait?: boolean },
): Promise<ExitCode> {
  const client = ctx.client();
  const result = await client.retry(id);
  ctx.out.line(`session ${result.id} ${result.status} again: resuming from the phase that did not finish`);
  return options.wait ? followSession(client, ctx.out, id) : 0;
}
