import { z } from "zod";
import { timestamp } from "./common.ts";

// The audit trail: who changed what through the API, and how it went.

/** Every action the audit trail records. */
const AUDIT_ACTIONS = [
  "session.submit",
  /** A submission that asks to publish to GitHub. */
  "session.publish",
  "session.cancel",
  "session.retry",
  "session.delete",
  "auth.sign_in",
  "auth.sign_out",
  /** A change made on Bull Board (retry, clean, promote, pause, …): `detail.operation` says which. */
  "queues.admin",
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** How an action ended, from its HTTP status: 2xx/3xx, 401/403, any other 4xx, 5xx. */
const AUDIT_OUTCOMES = ["succeeded", "denied", "refused", "error"] as const;
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];

const MAX_ID = 9_223_372_036_854_775_807n;

export const auditQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(200).default(50).meta({ description: "Page size." }),
  cursor: z
    .string()
    .regex(/^\d{1,19}$/, { message: "not a cursor returned by this API", abort: true })
    .refine((cursor) => BigInt(cursor) <= MAX_ID, "not a cursor returned by this API")
    .optional()
    .meta({ description: "`nextCursor` of the previous page." }),
});

export const auditEntrySchema = z
  .object({
    id: z.string().meta({ description: "A decimal number sent as a string (a 64-bit sequence)." }),
    at: timestamp,
    action: z.enum(AUDIT_ACTIONS),
    outcome: z.enum(AUDIT_OUTCOMES).meta({
      description: "succeeded (2xx/3xx), denied (401/403: no valid token), refused (other 4xx), error (5xx).",
    }),
    route: z.string().meta({ description: "The route pattern, e.g. `/api/sessions/:id/cancel`." }),
    method: z.string(),
    clientAddress: z.string().meta({
      description: "The peer's address (the last X-Forwarded-For entry with TRUST_PROXY), or `unknown`.",
    }),
    sessionId: z.string().nullable(),
    detail: z.record(z.string(), z.unknown()).nullable().meta({
      description:
        "`status`, the error `code` when refused, and a few facts (workflow, publish, budgetUsd). Never a token.",
    }),
  })
  .meta({ id: "AuditEntry" });
export type AuditEntry = z.infer<typeof auditEntrySchema>;

export const auditPageSchema = z
  .object({
    items: z.array(auditEntrySchema).meta({ description: "Newest first." }),
    nextCursor: z
      .string()
      .nullable()
      .meta({ description: "Pass as `cursor` for the next page; null at the end." }),
  })
  .meta({ id: "AuditPage" });
export type AuditPage = z.infer<typeof auditPageSchema>;
