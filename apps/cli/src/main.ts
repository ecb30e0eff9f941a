// `foundry`: a command-line client of the Foundry REST API. Exit codes: see exit-codes.ts.
import { ApiClient, ApiRequestError, SESSION_STATUSES } from "@foundry/client";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import packageJson from "../package.json" with { type: "json" };
import type { CommandContext, ExitCode } from "./commands/context.ts";
import { downloadCommand } from "./commands/download.ts";
import { filesCommand } from "./commands/files.ts";
import {
  cancelCommand,
  deleteCommand,
  listCommand,
  retryCommand,
  showCommand,
  submitCommand,
  watchCommand,
} from "./commands/sessions.ts";
import { listWorkflowsCommand, validateWorkflowCommand } from "./commands/workflows.ts";
import { type Connection, resolveConnection } from "./connection.ts";
import { CliError } from "./errors.ts";
import { EXIT, EXIT_CODES_HELP } from "./exit-codes.ts";
import { processOutput } from "./output.ts";

const out = processOutput();
/** Tokens that must never reach the terminal (the given one and the one read from .data/dev.json). */
const secrets = new Set<string>();
let connection: Connection | undefined;

// `foundry files … | head` closes the pipe early: stop quietly, as other command-line tools do.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
  fatal(error);
});
process.on("uncaughtException", fatal);
process.on("unhandledRejection", fatal);

const CONNECTION_HELP = `Which API: --url/API_URL and --token/API_TOKEN when given (prefer the variables:
arguments show in ps). Without them, foundry finds a running \`npm run dev\` by itself
through the .data/dev.json it writes (address and token, readable by you only), looked
for in the current directory and its parents, then in the checkout of this CLI.`;

const program = new Command("foundry")
  .description("Submit, follow and inspect Foundry sessions through the REST API.")
  .version(packageJson.version)
  .addOption(
    new Option("--url <url>", "base URL of the API (default: found from npm run dev)").env("API_URL"),
  )
  .addOption(
    new Option("--token <token>", "API token (prefer the variable: arguments show in ps)").env("API_TOKEN"),
  )
  .addHelpText("after", `\n${CONNECTION_HELP}\n\n${EXIT_CODES_HELP}\n`)
  .showHelpAfterError("(foundry --help lists the commands and options)")
  .exitOverride();

const context: CommandContext = {
  out,
  progress: (json) => (json ? processOutput(process.env, process.stderr) : out),
  client: async () => {
    const options = program.opts<{ url?: string; token?: string }>();
    if (options.token) secrets.add(options.token);
    connection ??= await resolveConnection(options, process.cwd(), out.warn);
    if (connection.token) secrets.add(connection.token);
    // Checked here because fetch would quote the bad header value, token included, in its error.
    if (connection.token !== undefined && !/^[\x21-\x7e]+$/.test(connection.token))
      throw usageError(
        "the token has spaces or other characters a header cannot carry: check API_TOKEN or --token",
      );
    return new ApiClient({ url: connection.url, token: connection.token });
  },
};

/** Runs a command and keeps its exit code for when the process ends. */
function run<A extends unknown[]>(command: (...args: A) => Promise<ExitCode>) {
  return async (...args: A) => {
    process.exitCode = await command(...args);
  };
}

const json = () => new Option("--json", "print JSON on stdout (one document, nothing else)");
const SESSION_ID = "session id (as printed by submit and list)";
const FOLLOW_EXIT = "exit 0 succeeded, 1 failed, 3 cancelled, 4 over budget";
const FOLLOW_HELP = `
While following, the session's phases and calls are printed as they happen (on stderr with --json,
which prints the session at the end). A dropped connection is resumed after the last event
received: nothing is lost or printed twice. The exit code is the session's outcome: 0 succeeded,
1 failed, 3 cancelled, 4 stopped at its budget (budget_exceeded); 130 on Ctrl-C (the session keeps
running).`;

program
  .command("submit")
  .description("submit a request; prints the session id")
  .argument("<request>", "what to build, in plain language")
  .option("--workflow <name>", "workflow to run (default: the API's default)")
  .option("--publish", "publish the project to GitHub when done")
  .option("--repo-name <name>", "GitHub repository name when publishing")
  .option("--budget <usd>", "the most the session may spend, in US dollars", positiveNumber)
  .option("--wait", `follow the session until it ends; ${FOLLOW_EXIT}`)
  .addOption(json())
  .addHelpText("after", FOLLOW_HELP)
  .action(run((request: string, options) => submitCommand(context, request, options)));

program
  .command("watch")
  .description("follow a session's progress live until it ends")
  .argument("<id>", SESSION_ID)
  .addOption(json())
  .addHelpText("after", FOLLOW_HELP)
  .action(run((id: string, options) => watchCommand(context, id, options)));

program
  .command("list")
  .description("list sessions, newest first")
  .option("--limit <n>", "how many (1–100)", positiveInteger)
  .addOption(new Option("--status <status>", "only sessions with this status").choices(SESSION_STATUSES))
  .option("--cursor <cursor>", "the next page, as printed after a full page")
  .addOption(json())
  .action(run((options) => listCommand(context, options)));

program
  .command("show")
  .description("show a session: status, phases, model calls, files, totals")
  .argument("<id>", SESSION_ID)
  .addOption(json())
  .action(run((id: string, options) => showCommand(context, id, options)));

program
  .command("cancel")
  .description("cancel a queued or running session at once (calls in flight are aborted)")
  .argument("<id>", SESSION_ID)
  .addOption(json())
  .action(run((id: string, options) => cancelCommand(context, id, options)));

program
  .command("retry")
  .description("resume a failed, cancelled or over-budget session from the phase that did not finish")
  .argument("<id>", SESSION_ID)
  .option(
    "--budget <usd>",
    "a new budget in US dollars (to resume a session that reached its budget)",
    positiveNumber,
  )
  .option("--wait", `follow the session until it ends; ${FOLLOW_EXIT}`)
  .addOption(json())
  .addHelpText("after", FOLLOW_HELP)
  .action(run((id: string, options) => retryCommand(context, id, options)));

program
  .command("delete")
  .description("delete a session that has ended: its records, jobs and files (a running one is refused)")
  .argument("<id>", SESSION_ID)
  .addOption(json())
  .action(run((id: string, options) => deleteCommand(context, id, options)));

program
  .command("files")
  .description("list a session's generated files as a tree; with a path, print that file's content")
  .argument("<id>", SESSION_ID)
  .argument("[path]", "a file (its content goes to stdout as it is) or a directory (its tree)")
  .addOption(json())
  .action(run((id: string, path: string | undefined, options) => filesCommand(context, id, path, options)));

program
  .command("download")
  .description("save the generated project (with its git history) as a tar.gz")
  .argument("<id>", SESSION_ID)
  .option("-o, --output <path>", "file, or directory for the API's file name (default: current directory)")
  .addOption(json())
  .action(run((id: string, options) => downloadCommand(context, id, options)));

const workflows = program.command("workflows").description("list or check workflows");
workflows
  .command("list")
  .description("the workflows the API offers")
  .addOption(json())
  .action(run((options) => listWorkflowsCommand(context, options)));
workflows
  .command("validate")
  .description("check a workflow file offline, as the API would load it; exit 1 when it is invalid")
  .argument("<file>", "workflow YAML file")
  .addOption(json())
  .action(run((file: string, options) => validateWorkflowCommand(context, file, options)));

try {
  await program.parseAsync();
} catch (error) {
  process.exitCode = exitCodeFor(error);
}

function exitCodeFor(error: unknown): ExitCode {
  // Commander has already printed its message (or the help, or the version).
  if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
  if (error instanceof CliError) {
    out.warn(`foundry: ${redact(error.message)}`);
    return error.exitCode;
  }
  if (error instanceof ApiRequestError) {
    let message = error.message;
    const devFile = connection?.devFile;
    if (devFile && error.code === "UNREACHABLE") {
      message += `; the address comes from ${devFile.path}, written by npm run dev (pid ${devFile.pid}): is it still starting, or stuck?`;
    }
    out.warn(`foundry: ${redact(message)}`);
    return EXIT.failed;
  }
  out.warn(`foundry: unexpected error: ${redact(error instanceof Error ? error.message : String(error))}`);
  return EXIT.failed;
}

/** Last resort: one line, never a stack trace. */
function fatal(error: unknown): void {
  process.stderr.write(
    `foundry: unexpected error: ${redact(error instanceof Error ? error.message : String(error))}\n`,
  );
  process.exit(EXIT.failed);
}

function usageError(message: string): CliError {
  return new CliError("USAGE", message, { exitCode: EXIT.usage });
}

function positiveInteger(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1)
    throw new InvalidArgumentError("expected a whole number ≥ 1");
  return Number(value);
}

function positiveNumber(value: string): number {
  const number = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || !(number > 0))
    throw new InvalidArgumentError("expected an amount of US dollars above 0, e.g. 0.50");
  return number;
}

/** Belt and braces: no message reaches the terminal with a token in it. */
function redact(message: string): string {
  let text = message;
  const given = program.opts<{ token?: string }>().token;
  if (given) secrets.add(given);
  for (const token of secrets) if (token.length >= 4) text = text.replaceAll(token, "***");
  return text;
}
