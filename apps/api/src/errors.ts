import { EnqueueError, infrastructureFault } from "@foundry/engine";
import { FoundryError } from "@foundry/errors";
import { UnknownWorkflowError, WorkflowError } from "@foundry/workflow";
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { z } from "zod";

/**
 * A request we refuse, with a message a person can act on. Retryable when the status says a later
 * try can succeed (408, 429, 5xx); a refusal of the request itself is not.
 */
export class ApiError extends FoundryError {
  override readonly name = "ApiError";
  readonly status: ContentfulStatusCode;
  readonly details: unknown;

  constructor(status: ContentfulStatusCode, code: string, message: string, details?: unknown) {
    super(message, { code, isRetryable: status === 408 || status === 429 || status >= 500 });
    this.status = status;
    this.details = details;
  }
}

/** Validates untrusted input; a failure is a 400 naming each bad field. */
export function parseInput<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    throw new ApiError(
      400,
      "INVALID_REQUEST",
      `invalid ${what}: ${z.prettifyError(parsed.error).replaceAll("\n", " ")}`,
      {
        issues: parsed.error.issues.map((issue) => ({ path: issue.path.join("."), message: issue.message })),
      },
    );
  }
  return parsed.data;
}

export function errorBody(code: string, message: string, details?: unknown) {
  return { error: { code, message, ...(details === undefined ? {} : { details }) } };
}

/** The one place errors become HTTP responses. Never a stack trace, never a secret. */
export function handleError(error: Error, c: Context, log: (error: Error) => void) {
  if (error instanceof ApiError)
    return c.json(errorBody(error.code, error.message, error.details), error.status);
  if (error instanceof UnknownWorkflowError) {
    return c.json(errorBody(error.code, error.message, { available: error.available }), 400);
  }
  if (error instanceof WorkflowError) return c.json(errorBody(error.code, error.message), 500);
  if (error instanceof EnqueueError) return c.json(errorBody(error.code, error.message), 503);
  const fault = infrastructureFault(error);
  if (fault) {
    // Not the request's fault, and not for long: the client may try again.
    c.header("Retry-After", "5");
    const what = fault === "database" ? "the database" : "the job queue";
    return c.json(errorBody("SERVICE_UNAVAILABLE", `${what} is unavailable; try again shortly`), 503);
  }
  if (error instanceof HTTPException) {
    const status = error.status as ContentfulStatusCode;
    const code = status === 413 ? "PAYLOAD_TOO_LARGE" : status === 401 ? "UNAUTHORIZED" : "HTTP_ERROR";
    return c.json(errorBody(code, error.message || "request refused"), status);
  }
  log(error);
  return c.json(errorBody("INTERNAL", "internal error; see the server log"), 500);
}
