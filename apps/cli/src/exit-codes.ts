import type { SessionStatus } from "@foundry/client";

/**
 * What the process's exit code says. For `submit --wait`, `watch` and `retry --wait` it is the
 * session's outcome; for every other command, whether the command did what it was asked.
 */
export const EXIT = {
  /** Done; a followed session succeeded. */
  ok: 0,
  /** The command failed (the API refused it, could not be reached…), or a followed session failed. */
  failed: 1,
  /** Bad usage: an unknown command or option, a missing or malformed argument, no API to talk to. */
  usage: 2,
  /** A followed session ended cancelled. */
  cancelled: 3,
  /** A followed session stopped at its budget (`budget_exceeded`): `foundry retry <id> --budget <usd>`. */
  budgetExceeded: 4,
  /** Ctrl-C while following (128 + SIGINT); the session keeps running. */
  interrupted: 130,
} as const;

/** The exit code of a followed session that has ended in `status`. */
export function exitCodeForStatus(status: SessionStatus): number {
  switch (status) {
    case "succeeded":
      return EXIT.ok;
    case "cancelled":
      return EXIT.cancelled;
    case "budget_exceeded":
      return EXIT.budgetExceeded;
    case "failed":
    // Not ended: only reached when following stopped early, which is not a success.
    case "queued":
    case "running":
      return EXIT.failed;
    default:
      return status satisfies never;
  }
}

/** Printed at the end of `foundry --help` and in the README. */
export const EXIT_CODES_HELP = `Exit codes:
  0    done; with --wait / watch: the session succeeded
  1    failed: the API refused the request or could not be reached;
       with --wait / watch: the session failed
  2    bad usage: unknown command or option, bad argument, no API found
  3    with --wait / watch: the session was cancelled
  4    with --wait / watch: the session stopped at its budget (budget_exceeded);
       foundry retry <id> --budget <usd> resumes it
  130  interrupted (Ctrl-C) while following; the session keeps running`;
