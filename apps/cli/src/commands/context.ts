import type { ApiClient } from "@foundry/client";
import type { Output } from "../output.ts";

/** What every command gets from main: where to print, and the API client (found on first use). */
export interface CommandContext {
  out: Output;
  /** Where progress goes: stdout, or stderr when stdout carries `--json`. */
  progress(json: boolean | undefined): Output;
  client(): Promise<ApiClient>;
}

/** A command's outcome is its exit code (see ../exit-codes.ts). */
export type ExitCode = number;
