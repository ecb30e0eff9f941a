import type { Writable } from "node:stream";

/** ANSI styles; each is the identity when colours are off. */
export interface Style {
  bold(text: string): string;
  dim(text: string): string;
  green(text: string): string;
  yellow(text: string): string;
  red(text: string): string;
  cyan(text: string): string;
}

const ansi = (open: number, close: number) => (text: string) => `\x1b[${open}m${text}\x1b[${close}m`;
const plain = (text: string) => text;

export function createStyle(colour: boolean): Style {
  return colour
    ? {
        bold: ansi(1, 22),
        dim: ansi(2, 22),
        green: ansi(32, 39),
        yellow: ansi(33, 39),
        red: ansi(31, 39),
        cyan: ansi(36, 39),
      }
    : { bold: plain, dim: plain, green: plain, yellow: plain, red: plain, cyan: plain };
}

/** Where commands print. Results go to stdout, diagnostics to stderr. */
export interface Output {
  /** stdout is an interactive terminal: progress is a redrawn status line, not a stream of lines. */
  readonly live: boolean;
  readonly style: Style;
  readonly stdout: Writable;
  /** Width of the terminal, 80 when unknown. */
  columns(): number;
  /** Prints one line (or several) to stdout. */
  line(text?: string): void;
  /** Prints a diagnostic line to stderr. */
  warn(text: string): void;
}

/**
 * The process's terminal: results on stdout (or on `stream`, e.g. stderr for progress while stdout
 * carries JSON), diagnostics on stderr. Colours only on a TTY and without `NO_COLOR`
 * (https://no-color.org); live redrawing only on a TTY that is not `TERM=dumb`.
 */
export function processOutput(
  env: NodeJS.ProcessEnv = process.env,
  stream: NodeJS.WriteStream = process.stdout,
): Output {
  const tty = stream.isTTY === true && env.TERM !== "dumb";
  const colour = tty && !env.NO_COLOR;
  return {
    live: tty,
    style: createStyle(colour),
    stdout: stream,
    // A pseudo-terminal may report 0 columns.
    columns: () => stream.columns || 80,
    line: (text = "") => stream.write(`${text}\n`),
    warn: (text) => process.stderr.write(`${text}\n`),
  };
}

/** `--json`: one JSON document on stdout, and nothing else there. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: matching ANSI escapes is the point
const ANSI_PATTERN = /\x1b\[[0-9;]*m/g;

/** Visible width of a string that may contain ANSI styles. */
export function visibleWidth(text: string): number {
  return text.replace(ANSI_PATTERN, "").length;
}
