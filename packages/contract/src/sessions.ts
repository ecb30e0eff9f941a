import { z } from "zod";
import { eventId, sessionId, timestamp, usd } from "./common.ts";
import { sessionEventSchema } from "./events.ts";
import { CALL_STATUSES, FAILURE_CODES, PHASE_KINDS, PHASE_STATUSES, SESSION_STATUSES } from "./statuses.ts";

// Sessions: what is submitted, listed and shown.

// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
const CONTROL_CHARACTERS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

/** `POST /api/sessions`. */
export const createSessionBody = z
  .strictObject({
    request: z
      .string()
      .trim()
      .min(1, "must not be empty")
      .max(20_000)
      .refine((text) => !CONTROL_CHARACTERS.test(text) && text.isWellFormed(), {
        message: "must be text without control characters",
      })
      .meta({ description: "What to build, in plain language.", example: "Build a todo list app" }),
    workflow: z
      .string()
      .regex(/^[a-z][a-z0-9_-]*$/, "expected a workflow name such as software-project")
      .max(60)
      .optional()
      .meta({ description: "A workflow name (`GET /api/workflows`). @default software-project" }),
    publish: z.boolean().optional().meta({ description: "Publish the project to GitHub when done." }),
    budgetUsd: z.number().positive("must be more than 0").max(1_000_000).optional().meta({
      description: "The most the session may spend (USD); it stops as `budget_exceeded` before crossing it.",
    }),
    cache: z.boolean().optional().meta({
      description: "Reuse identical answers from the response cache (and add this session's to it).",
    }),
    repoName: z
      .string()
      .regex(
        /^(?!\.)[A-Za-z0-9._-]{1,100}$/,
        "expected 1–100 letters, digits, '.', '_' or '-', not starting with '.'",
      )
      .optional()
      .meta({ description: "The GitHub repository's name when publishing." }),
  })
  .meta({ id: "CreateSession" });

export type CreateSession = z.input<typeof createSessionBody>;

export const sessionLinksSchema = z
  .object({
    self: z.string(),
    events: z.string(),
    stream: z.string(),
    files: z.string(),
    archive: z.string(),
    cancel: z.string(),
    retry: z.string(),
  })
  .meta({ id: "SessionLinks", description: "Where to go next (paths on this API)." });

export type SessionLinks = z.infer<typeof sessionLinksSchema>;

/** The links of a session, by id. */
export function sessionLinks(id: string): SessionLinks {
  const self = `/api/sessions/${id}`;
  return {
    self,
    events: `${self}/events`,
    stream: `${self}/events/stream`,
    files: `${self}/files`,
    archive: `${self}/archive`,
    cancel: `${self}/cancel`,
    retry: `${self}/retry`,
  };
}

export const submitResponseSchema = z
  .object({
    id: sessionId,
    status: z.literal("queued"),
    workflow: z.string(),
    links: sessionLinksSchema,
  })
  .meta({ id: "SubmittedSession" });

export type SubmitResponse = z.infer<typeof submitResponseSchema>;

const totals = z.object({ inputTokens: z.int(), outputTokens: z.int(), costUsd: usd });

/** A session in a list: what a person scans for. */
export const sessionSummarySchema = z
  .object({
    id: sessionId,
    request: z.string().meta({ description: "The request, cut at 200 characters." }),
    workflow: z.string(),
    status: z.enum(SESSION_STATUSES),
    currentPhase: z.string().nullable(),
    error: z.string().nullable(),
    errorCode: z.enum(FAILURE_CODES).nullable(),
    retries: z.int(),
    createdAt: timestamp,
    finishedAt: timestamp.nullable(),
    totals,
    repository: z.string().nullable().meta({ description: "The GitHub repository's URL, once published." }),
  })
  .meta({ id: "SessionSummary" });

export type SessionSummary = z.infer<typeof sessionSummarySchema>;

/** `GET /api/sessions`. */
export const listSessionsQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(20).meta({ description: "Page size." }),
  cursor: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,300}$/, "not a cursor returned by this API")
    .optional()
    .meta({ description: "`nextCursor` of the previous page." }),
  status: z.enum(SESSION_STATUSES).optional().meta({ description: "Only sessions in this status." }),
  workflow: z
    .string()
    .regex(/^[a-z][a-z0-9_-]*$/, "expected a workflow name such as software-project")
    .max(60)
    .optional()
    .meta({ description: "Only sessions of this workflow." }),
});

export const sessionPageSchema = z
  .object({
    sessions: z.array(sessionSummarySchema).meta({ description: "Newest first." }),
    nextCursor: z
      .string()
      .nullable()
      .meta({ description: "Pass as `cursor` for the next page; null at the end." }),
  })
  .meta({ id: "SessionPage" });

export type SessionPage = z.infer<typeof sessionPageSchema>;

export const phaseViewSchema = z
  .object({
    id: z.string(),
    title: z.string(),
    kind: z.enum(PHASE_KINDS),
    status: z.enum(PHASE_STATUSES),
    skipReason: z.string().nullable(),
    error: z.string().nullable(),
    attempts: z.int(),
    startedAt: timestamp.nullable(),
    finishedAt: timestamp.nullable(),
    durationMs: z.int().nullable(),
  })
  .meta({ id: "PhaseRun" });

export const callViewSchema = z
  .object({
    idempotencyKey: z.string().meta({ description: "`<session>.<phase>.<call>`" }),
    phase: z.string(),
    callKey: z.string(),
    role: z.string(),
    provider: z.string().meta({ example: "anthropic" }),
    model: z.string(),
    schema: z.string().meta({ description: "The output schema's name." }),
    status: z.enum(CALL_STATUSES),
    inputTokens: z.int(),
    outputTokens: z.int(),
    costUsd: usd,
    latencyMs: z.int().nullable(),
    attempts: z.int().meta({ description: "Provider requests actually sent." }),
    rateLimitHits: z.int(),
    cached: z.boolean().meta({ description: "Answered from the response cache: no request, no cost." }),
    fallbackFrom: z
      .string()
      .nullable()
      .meta({ description: "The provider/model first planned, when another one answered instead." }),
    worker: z.object({ host: z.string(), pid: z.int().nullable() }).nullable(),
    error: z.string().nullable(),
    errorCode: z.string().nullable(),
    startedAt: timestamp.nullable(),
    finishedAt: timestamp.nullable(),
  })
  .meta({ id: "ModelCall" });

export const generatedFileSchema = z
  .object({
    path: z.string().meta({ description: "Relative to the project's root (POSIX)." }),
    sizeBytes: z.int(),
    sha256: z.string().meta({ description: "Of the content (hex)." }),
    author: z.string().meta({ description: "The role that wrote it." }),
    phase: z.string(),
    purpose: z.string().nullable(),
  })
  .meta({ id: "GeneratedFile" });

export type GeneratedFile = z.infer<typeof generatedFileSchema>;

export const voteViewSchema = z
  .object({
    disagreementId: z.string(),
    topic: z.string(),
    voter: z.string(),
    provider: z.string(),
    model: z.string(),
    choice: z.string(),
    rationale: z.string(),
    createdAt: timestamp,
  })
  .meta({ id: "Vote" });

/** The seed's workflow state: each value is the structured result that produced it, or null. */
export const workflowStateSchema = z
  .object({
    refinedRequirements: z.unknown(),
    backendPlan: z.unknown(),
    frontendPlan: z.unknown(),
    planComparison: z.unknown(),
    disagreements: z.array(z.unknown()).nullable(),
    finalDecision: z.unknown(),
    backendImplementation: z.unknown(),
    frontendImplementation: z.unknown(),
    testImplementation: z.unknown(),
    votes: z.array(voteViewSchema),
  })
  .meta({ id: "WorkflowState" });

/** One session in full. */
export const sessionViewSchema = z
  .object({
    id: sessionId,
    request: z.string(),
    workflow: z.string(),
    status: z.enum(SESSION_STATUSES),
    currentPhase: z.string().nullable(),
    error: z.string().nullable(),
    errorCode: z.enum(FAILURE_CODES).nullable(),
    run: z.int().meta({ description: "The flow generation (a retry or a re-queue starts a new run)." }),
    retries: z.int(),
    budgetUsd: usd.nullable().meta({ description: "The most it may spend (USD), if it has a budget." }),
    cache: z.boolean().meta({ description: "Whether it reuses answers from the response cache." }),
    publish: z.boolean(),
    createdAt: timestamp,
    startedAt: timestamp.nullable(),
    finishedAt: timestamp.nullable(),
    totals: totals.extend({
      calls: z.int(),
      cachedCalls: z.int().meta({ description: "Calls answered from the response cache." }),
      fallbacks: z.int().meta({ description: "Calls answered by a fallback provider or model." }),
    }),
    workspace: z.string().nullable().meta({ description: "Where the workers wrote the project." }),
    repository: z.string().nullable(),
    state: workflowStateSchema,
    phases: z.array(phaseViewSchema),
    calls: z.array(callViewSchema),
    files: z.array(generatedFileSchema),
    executionLog: z.array(sessionEventSchema).meta({ description: "The last 500 events, oldest first." }),
    lastEventId: eventId
      .nullable()
      .meta({ description: "The newest event's id: resume a stream from here." }),
    links: sessionLinksSchema,
  })
  .meta({ id: "SessionView" });

export type SessionView = z.infer<typeof sessionViewSchema>;

/** `GET /api/sessions/{id}`. */
export const sessionQuery = z.strictObject({
  view: z
    .enum(["full", "summary"])
    .default("full")
    .meta({ description: "`summary`: only what a list shows (one row read; for pollers)." }),
});

/** `POST /api/sessions/{id}/retry`: an optional body. */
export const retrySessionBody = z
  .strictObject({
    budgetUsd: z
      .number()
      .positive("must be more than 0")
      .max(1_000_000)
      .optional()
      .meta({ description: "A new budget (USD), e.g. to resume a session that reached its budget." }),
  })
  .meta({ id: "RetrySession" });

/** `POST /api/sessions/{id}/cancel`. */
export const cancelResponseSchema = z
  .object({ id: sessionId, status: z.literal("cancelled"), links: sessionLinksSchema })
  .meta({ id: "CancelledSession" });

/** `POST /api/sessions/{id}/retry`. */
export const retryResponseSchema = z
  .object({
    id: sessionId,
    status: z.literal("queued"),
    run: z.int().meta({ description: "The new run number." }),
    links: sessionLinksSchema,
  })
  .meta({ id: "RetriedSession" });

export type CancelResponse = z.infer<typeof cancelResponseSchema>;
export type RetryResponse = z.infer<typeof retryResponseSchema>;

/** `GET /api/sessions/{id}/files`. */
export const fileListSchema = z.object({ files: z.array(generatedFileSchema) }).meta({ id: "FileList" });

export type FileList = z.infer<typeof fileListSchema>;

export const sessionParams = z.object({ id: sessionId });

export const fileParams = z.object({
  id: sessionId,
  path: z.string().min(1).max(1000).meta({
    description: "The file's path in the project, e.g. `src/server.js` (slashes may stay unencoded).",
  }),
});
