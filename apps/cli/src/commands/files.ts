import { ApiRequestError } from "@foundry/client";
import { CliError } from "../errors.ts";
import { EXIT } from "../exit-codes.ts";
import { formatFileTree } from "../file-tree.ts";
import { printJson } from "../output.ts";
import type { CommandContext, ExitCode } from "./context.ts";

/**
 * `foundry files <id> [path]`: without a path, the session's files as a tree (with `json`, the
 * API's list); with the path of a file, its content exactly as stored, on stdout (with `json`,
 * `{ path, content }`); with the path of a directory, the tree under it.
 */
export async function filesCommand(
  ctx: CommandContext,
  id: string,
  path: string | undefined,
  options: { json?: boolean },
): Promise<ExitCode> {
  const wanted = path?.replace(/^\.?\/+/, "").replace(/\/+$/, "");
  if (path !== undefined && !wanted) {
    throw new CliError("USAGE", `"${path}" is not a file path: give one as listed by foundry files ${id}`, {
      exitCode: EXIT.usage,
    });
  }
  const client = await ctx.client();
  if (wanted === undefined) return printTree(ctx, await client.files(id), options.json);

  try {
    const content = await client.fileContent(id, wanted);
    if (options.json) printJson({ path: wanted, content });
    else process.stdout.write(content);
    return EXIT.ok;
  } catch (error) {
    if (!(error instanceof ApiRequestError) || error.status !== 404) throw error;
    // Not a file: a directory, or nothing (then the API's message, which names the session or the file).
    const under = (await client.files(id)).filter((file) => file.path.startsWith(`${wanted}/`));
    if (under.length === 0) throw error;
    return printTree(ctx, under, options.json);
  }
}

function printTree(ctx: CommandContext, files: Parameters<typeof formatFileTree>[0], json?: boolean) {
  if (json) printJson({ files });
  else if (files.length === 0) ctx.out.line("no files (yet)");
  else for (const line of formatFileTree(files, ctx.out.style)) ctx.out.line(line);
  return EXIT.ok;
}
