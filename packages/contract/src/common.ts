import { z } from "zod";

// Building blocks shared by the schemas of every resource.

/** A timestamp as the API writes it: ISO 8601 in UTC with milliseconds. */
export const timestamp = z.iso.datetime();

/** A session id (a UUID). A malformed id is answered like an unknown one: 404. */
export const sessionId = z.uuid().meta({ description: "The session's id (a UUID)." });

const MAX_EVENT_ID = 9_223_372_036_854_775_807n;

/**
 * An event id: a decimal string (ids come from a 64-bit sequence, beyond JavaScript's safe
 * integers, hence text).
 */
export const eventId = z
  .string()
  .regex(/^\d{1,19}$/, { message: "expected an event id (a decimal number)", abort: true })
  .refine((id) => BigInt(id) <= MAX_EVENT_ID, "expected an event id (at most 2^63 - 1)")
  .meta({ id: "EventId", description: "An event id: a decimal number sent as a string.", example: "42" });

/** US dollars, as a JSON number (the database keeps 6 decimal places). */
export const usd = z.number().meta({ description: "US dollars." });

/** The error body of every 4xx and 5xx answer. */
export const errorSchema = z
  .object({
    error: z.object({
      code: z.string().meta({
        description:
          "A stable word to switch on: INVALID_REQUEST, INVALID_JSON, NOT_FOUND, CONFLICT, UNAUTHORIZED, PAYLOAD_TOO_LARGE, UNSUPPORTED_MEDIA_TYPE, WORKFLOW_INVALID, …",
        example: "INVALID_REQUEST",
      }),
      message: z.string().meta({ description: "One line a person can act on." }),
      details: z
        .unknown()
        .optional()
        .meta({ description: "Machine-readable details: `issues` (path, message) for a bad request." }),
    }),
  })
  .meta({ id: "Error", description: "Every error: `{ error: { code, message, details? } }`." });

export type ErrorBody = z.infer<typeof errorSchema>;
