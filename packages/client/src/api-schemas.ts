import { z } from "zod";

// What the clients read from the REST API. Loose objects: the API may add fields without breaking
// older clients; only the fields the clients use are checked.

const totals = z.looseObject({
  inputTokens: z.number(),
  outputTokens: z.number(),
  costUsd: z.number(),
});

export const submitResponseSchema = z.looseObject({
  id: z.string(),
  status: z.string(),
  workflow: z.string(),
});

export const sessionSummarySchema = z.looseObject({
  id: z.string(),
  request: z.string(),
  workflow: z.string(),
  status: z.string(),
  currentPhase: z.string().nullable(),
  error: z.string().nullable(),
  errorCode: z.string().nullable(),
  retries: z.number(),
  createdAt: z.string(),
  finishedAt: z.string().nullable(),
  totals,
  repository: z.string().nullable(),
});

export const sessionPageSchema = z.looseObject({
  sessions: z.array(sessionSummarySchema),
  nextCursor: z.string().nullable(),
});

/** A session in full: the summary's fields and more. */
export const sessionViewSchema = sessionSummarySchema.extend({
  publish: z.boolean(),
  startedAt: z.string().nullable(),
  totals: totals.extend({ calls: z.number() }),
  workspace: z.string().nullable(),
  phases: z.array(
    z.looseObject({
      id: z.string(),
      title: z.string(),
      kind: z.string(),
      status: z.string(),
      skipReason: z.string().nullable(),
      error: z.string().nullable(),
      attempts: z.number(),
      durationMs: z.number().nullable(),
    }),
  ),
  calls: z.array(
    z.looseObject({
      phase: z.string(),
      callKey: z.string(),
      role: z.string(),
      provider: z.string(),
      model: z.string(),
      status: z.string(),
      inputTokens: z.number(),
      outputTokens: z.number(),
      costUsd: z.number(),
      latencyMs: z.number().nullable(),
      attempts: z.number(),
      worker: z.looseObject({ host: z.string(), pid: z.number().nullable() }).nullable(),
      error: z.string().nullable(),
    }),
  ),
  files: z.array(
    z.looseObject({
      path: z.string(),
      sizeBytes: z.number(),
      author: z.string(),
      phase: z.string(),
    }),
  ),
});

export const sessionEventSchema = z.looseObject({
  id: z.string(),
  type: z.string(),
  phase: z.string().nullable(),
  message: z.string(),
  data: z.unknown(),
  at: z.string(),
});

export const eventPageSchema = z.looseObject({
  events: z.array(sessionEventSchema),
  last: z.string(),
});

/** `POST /api/sessions/:id/cancel` and `/retry`. */
export const sessionActionSchema = z.looseObject({
  id: z.string(),
  status: z.string(),
});

export const workflowListSchema = z.looseObject({
  workflows: z.array(
    z.looseObject({
      name: z.string(),
      description: z.string().nullish(),
      phases: z.array(z.looseObject({ id: z.string(), title: z.string(), kind: z.string() })),
    }),
  ),
});

/** The API's error body: `{ error: { code, message } }`. */
export const errorBodySchema = z.looseObject({
  error: z.looseObject({ code: z.string(), message: z.string() }),
});

/** `data` of a `call.succeeded` event. */
export const callUsageSchema = z.looseObject({
  inputTokens: z.number(),
  outputTokens: z.number(),
  costUsd: z.coerce.number(),
});

export type SubmitResponse = z.infer<typeof submitResponseSchema>;
export type SessionSummary = z.infer<typeof sessionSummarySchema>;
export type SessionPage = z.infer<typeof sessionPageSchema>;
export type SessionView = z.infer<typeof sessionViewSchema>;
export type SessionEvent = z.infer<typeof sessionEventSchema>;
export type WorkflowList = z.infer<typeof workflowListSchema>;
export type SessionAction = z.infer<typeof sessionActionSchema>;
