import { z } from "zod";
import { timestamp } from "./common.ts";

// What the dashboard needs beyond sessions: the server's options (`GET /api/info`) and the load
// across sessions (`GET /api/stats`).

/** `GET /api/info`. */
export const infoSchema = z
  .object({
    canPublish: z
      .boolean()
      .meta({ description: "The server has a GITHUB_TOKEN: `publish` and `repoName` may be sent." }),
    defaultWorkflow: z.string().meta({ description: "The workflow a submission without one runs." }),
  })
  .meta({ id: "Info" });

export type Info = z.infer<typeof infoSchema>;

/** `GET /api/stats`. */
export const statsQuery = z.strictObject({
  minutes: z.coerce
    .number()
    .int()
    .min(1)
    .max(1440)
    .default(30)
    .meta({ description: "How many minutes back the per-minute counts go. @default 30" }),
});

const rateLimitSchema = z.object({
  max: z.int().meta({ description: "Requests…" }),
  windowMs: z.int().meta({ description: "…per this many milliseconds." }),
});

export const providerMinuteSchema = z.object({
  minute: timestamp.meta({ description: "The minute's start." }),
  calls: z.int().meta({ description: "Model calls that started in this minute (cached ones excluded)." }),
  requests: z.int().meta({ description: "Provider requests those calls sent (attempts)." }),
  rateLimited: z.int().meta({ description: "429s those calls received." }),
});

export const queueDepthSchema = z.object({
  name: z.string(),
  waiting: z.int(),
  active: z.int(),
  delayed: z.int(),
  prioritized: z.int(),
  waitingChildren: z.int(),
  failed: z.int(),
  completed: z.int(),
});

export const statsSchema = z
  .object({
    at: timestamp,
    minutes: z.int(),
    providers: z.array(
      z.object({
        provider: z.string(),
        rateLimit: rateLimitSchema
          .nullable()
          .meta({ description: "The configured limit (the API's *_RATE_LIMIT, as the workers')." }),
        perMinute: z.array(providerMinuteSchema).meta({ description: "Minutes with calls, oldest first." }),
      }),
    ),
    queues: z
      .array(queueDepthSchema)
      .nullable()
      .meta({ description: "Jobs per state in each queue; null when the queue could not be read." }),
    queueError: z.string().nullable().meta({ description: "Why `queues` is null." }),
  })
  .meta({ id: "Stats" });

export type Stats = z.infer<typeof statsSchema>;
export type QueueDepth = z.infer<typeof queueDepthSchema>;
