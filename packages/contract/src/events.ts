import { z } from "zod";
import { eventId, sessionId, timestamp } from "./common.ts";
import { SESSION_STATUSES } from "./statuses.ts";

/** One entry of a session's event log (its execution log). */
export const sessionEventSchema = z
  .object({
    id: eventId,
    sessionId,
    type: z.string().meta({
      description:
        "What happened: session.submitted, session.started, session.requeued, session.retried, phase.started, phase.waiting, phase.skipped, phase.succeeded, phase.failed, call.started, call.succeeded, call.reused, call.cached, call.fallback, call.late_answer, call.retrying, call.failed, call.cancelled, provider.rate_limited, provider.breaker_opened, provider.breaker_closed, spend.guard, vote.recorded, decision.override, file.rejected, file.merged, files.written, git.committed, git.published, session.succeeded, session.failed, session.cancelled, session.budget_exceeded. New types may be added.",
      example: "phase.started",
    }),
    phase: z.string().nullable().meta({ description: "The phase it concerns, if any." }),
    message: z.string().meta({ description: "One line for a person." }),
    data: z.unknown().meta({ description: "Details, by type (e.g. tokens and cost for call.succeeded)." }),
    at: timestamp,
  })
  .meta({ id: "SessionEvent" });

export type SessionEvent = z.infer<typeof sessionEventSchema>;

/** `GET /api/sessions/{id}/events`. */
export const eventsQuery = z.strictObject({
  after: eventId.default("0").meta({ description: "Only events with a larger id. @default 0" }),
  limit: z.coerce.number().int().min(1).max(1000).default(500).meta({ description: "At most this many." }),
});

export const eventPageSchema = z
  .object({
    events: z.array(sessionEventSchema),
    last: eventId.meta({ description: "The last event's id (or `after`): pass it as `after` next time." }),
  })
  .meta({ id: "EventPage" });

export type EventPage = z.infer<typeof eventPageSchema>;

/** The streams' query: `lastEventId` stands in for the `Last-Event-ID` header (which wins). */
export const streamQuery = z.strictObject({
  lastEventId: eventId.optional().meta({
    description: "Resume after this event id (the `Last-Event-ID` header wins when both are sent).",
  }),
});

/** The `data` of a session stream's last message (`event: end`), sent once its session has ended. */
export const streamEndSchema = z.object({ status: z.enum(SESSION_STATUSES) }).meta({
  id: "StreamEnd",
  description: "Sent as `event: end` when the session has ended; the stream then closes.",
});

export type StreamEnd = z.infer<typeof streamEndSchema>;

/** `data` of a `call.succeeded` event. Loose: the engine may add fields. */
export const callUsageSchema = z.looseObject({
  inputTokens: z.number(),
  outputTokens: z.number(),
  costUsd: z.coerce.number(),
});
