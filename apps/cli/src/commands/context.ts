import type { ApiClient } from "@foundry/client";
import type { Output } from "../output.ts";

/** What every command gets from main: where to print, and the API client (built on first use). */
export interface CommandContext {
  out: Output;
  client(): ApiClient;
}

/** A command's outcome is its exit code. */
export type ExitCode = number;
