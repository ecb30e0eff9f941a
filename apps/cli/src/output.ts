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
 * The process's terminal. Colours only on a TTY and without `NO_COLOR` (https://no-color.org);
 * live redrawing only on a TTY that is not `TERM=dumb`.
 */
export function processOutput(env: NodeJS.ProcessEnv = process.env): Output {
  const tty = process.stdout.isTTY === true && env.TERM !== "dumb";
  const colour = tty && !env.NO_COLOR;
  return {
    live: tty,
    style: createStyle(colour),
    stdout: process.stdout,
    // A pseudo-terminal may report 0 columns.
    columns: () => process.stdout.columns || 80,
    line: (text = "") => process.stdout.write(`${text}\n`),
    warn: (text) => process.stderr.write(`${text}\n`),
  };
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: matching ANSI escapes is the point
const ANSI_PATTERN = /\x1b\[[0-9;]*m/g;

/** Visible width of a string that may contain ANSI styles. */
export function visibleWidth(text: string): number {
  return text.replace(ANSI_PATTERN, "").length;
}
