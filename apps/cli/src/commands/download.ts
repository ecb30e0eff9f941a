import { createWriteStream } from "node:fs";
import { rename, rm, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { CliError } from "../errors.ts";
import { EXIT } from "../exit-codes.ts";
import { formatBytes } from "../format.ts";
import { printJson } from "../output.ts";
import type { CommandContext, ExitCode } from "./context.ts";

/**
 * `foundry download`: saves the project's tar.gz. `output` is a file, or a directory to save the
 * API's file name in; by default that name in the current directory. An existing file is replaced.
 */
export async function downloadCommand(
  ctx: CommandContext,
  id: string,
  options: { output?: string; json?: boolean },
): Promise<ExitCode> {
  const archive = await (await ctx.client()).archive(id);
  const name = archive.filename ?? `foundry-${id.slice(0, 8)}.tar.gz`;
  const target = await targetPath(options.output, name);
  // Written next to the target and renamed at the end: a failed download leaves no partial file.
  const partial = `${target}.${process.pid}.part`;
  try {
    await pipeline(Readable.fromWeb(archive.body as never), createWriteStream(partial, { flags: "wx" }));
    await rename(partial, target);
  } catch (cause) {
    await rm(partial, { force: true });
    const reason = (cause as NodeJS.ErrnoException).code ?? (cause as Error).message;
    throw new CliError("WRITE_FAILED", `cannot save ${target}: ${reason}`, { cause });
  }
  const { size } = await stat(target);
  if (options.json) printJson({ id, file: target, bytes: size });
  else ctx.out.line(`saved ${target} (${formatBytes(size)})`);
  return EXIT.ok;
}

async function targetPath(output: string | undefined, name: string): Promise<string> {
  if (output === undefined) return resolve(name);
  const isDir =
    /[\\/]$/.test(output) ||
    (await stat(output).then(
      (s) => s.isDirectory(),
      () => false,
    ));
  return isDir ? resolve(join(output, name)) : resolve(output);
}
