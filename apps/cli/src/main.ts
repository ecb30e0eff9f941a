#!/usr/bin/env node
// `foundry`: a command-line client of the Foundry REST API. Exit codes: 0 done, 1 failed (or the
// session failed), 2 bad usage, 130 interrupted.
import { ApiClient, ApiRequestError } from "@foundry/client";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import packageJson from "../package.json" with { type: "json" };
import type { CommandContext, ExitCode } from "./commands/context.ts";
import { downloadCommand } from "./commands/download.ts";
import {
  cancelCommand,
  listCommand,
  retryCommand,
  showCommand,
  submitCommand,
  watchCommand,
} from "./commands/sessions.ts";
import { listWorkflowsCommand, validateWorkflowCommand } from "./commands/workflows.ts";
import { CliError } from "./errors.ts";
import { processOutput } from "./output.ts";

const USAGE_ERROR = 2;
const out = processOutput();

const program = new Command("foundry")
  .description("Submit, follow and inspect Foundry sessions through the REST API.")
  .version(packageJson.version)
  .addOption(new Option("--url <url>", "base URL of the API").env("API_URL").default("http://127.0.0.1:3000"))
  .addOption(
    new Option("--token <token>", "API token (prefer the variable: arguments show in ps)").env("API_TOKEN"),
  )
  .showHelpAfterError("(foundry --help lists the commands and options)")
  .exitOverride();

const context: CommandContext = { out, client: () => createClient(program.opts()) };

/** Runs a command and keeps its exit code for when the process ends. */
function run<A extends unknown[]>(command: (...args: A) => Promise<ExitCode>) {
  return async (...args: A) => {
    process.exitCode = await command(...args);
  };
}

program
  .command("submit")
  .description("submit a request; prints the session id")
  .argument("<request>", "what to build, in plain language")
  .option("--workflow <name>", "workflow to run (default: the API's default)")
  .option("--publish", "publish the project to GitHub when done")
  .option("--repo-name <name>", "GitHub repository name when publishing")
  .option("--wait", "follow the session until it ends; exit 0 only if it succeeded")
  .action(run((request: string, options) => submitCommand(context, request, options)));

program
  .command("show")
  .description("show a session: status, phases, model calls, files, totals")
  .argument("<id>", "session id")
  .option("--json", "print the API's JSON")
  .action(run((id: string, options) => showCommand(context, id, options)));

program
  .command("list")
  .description("list sessions, newest first")
  .option("--limit <n>", "how many (1–100)", positiveInteger)
  .option(
    "--status <status>",
    "only sessions with this status (queued, running, succeeded, failed, cancelled)",
  )
  .option("--cursor <cursor>", "the next page, as printed after a full page")
  .option("--json", "print the API's JSON")
  .action(run((options) => listCommand(context, options)));

program
  .command("watch")
  .description("follow a session's progress until it ends; exit 0 only if it succeeded")
  .argument("<id>", "session id")
  .action(run((id: string) => watchCommand(context, id)));

program
  .command("cancel")
  .description("cancel a queued or running session at once (calls in flight are aborted)")
  .argument("<id>", "session id")
  .action(run((id: string) => cancelCommand(context, id)));

program
  .command("retry")
  .description("resume a failed or cancelled session from the phase that did not finish")
  .argument("<id>", "session id")
  .option("--wait", "follow the session until it ends; exit 0 only if it succeeded")
  .action(run((id: string, options) => retryCommand(context, id, options)));

program
  .command("download")
  .description("save the generated project as a tar.gz")
  .argument("<id>", "session id")
  .option("-o, --output <path>", "file, or directory for the API's file name (default: current directory)")
  .action(run((id: string, options) => downloadCommand(context, id, options)));

const workflows = program.command("workflows").description("list or check workflows");
workflows
  .command("list")
  .description("the workflows the API offers")
  .action(run(() => listWorkflowsCommand(context)));
workflows
  .command("validate")
  .description("check a workflow file offline, as the API would load it")
  .argument("<file>", "workflow YAML file")
  .action(run((file: string) => validateWorkflowCommand(context, file)));

try {
  await program.parseAsync();
} catch (error) {
  process.exitCode = exitCodeFor(error);
}

function exitCodeFor(error: unknown): ExitCode {
  // Commander has already printed its message (or the help, or the version).
  if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : USAGE_ERROR;
  if (error instanceof CliError || error instanceof ApiRequestError) {
    out.warn(`foundry: ${redact(error.message)}`);
    return error instanceof CliError ? error.exitCode : 1;
  }
  out.warn(`foundry: unexpected error: ${redact(error instanceof Error ? error.message : String(error))}`);
  return 1;
}

function createClient(options: { url: string; token?: string }): ApiClient {
  let url: URL;
  try {
    url = new URL(options.url);
  } catch {
    throw usageError(`--url/API_URL is not a URL: "${options.url}"`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw usageError(`--url/API_URL must be an http or https URL, not "${url.protocol}"`);
  if (url.username || url.password)
    throw usageError("--url/API_URL must not contain credentials: pass the token with API_TOKEN or --token");
  // Checked here because fetch would quote the bad header value, token included, in its error.
  const token = options.token || undefined;
  if (token !== undefined && !/^[\x21-\x7e]+$/.test(token))
    throw usageError(
      "the token has spaces or other characters a header cannot carry: check API_TOKEN or --token",
    );
  return new ApiClient({ url: `${url.origin}${url.pathname}`, token });
}

function usageError(message: string): CliError {
  return new CliError("USAGE", message, { exitCode: USAGE_ERROR });
}

function positiveInteger(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1)
    throw new InvalidArgumentError("expected a whole number ≥ 1");
  return Number(value);
}

/** Belt and braces: no message reaches the terminal with the token in it. */
function redact(message: string): string {
  const token = program.opts<{ token?: string }>().token;
  return token && token.length >= 4 ? message.replaceAll(token, "***") : message;
}
