import { readFileSync } from "node:fs";
import type { PrismaClient } from "@foundry/db";
import { z } from "zod";

const CALLS_PER_MINUTE = readFileSync(new URL("./sql/calls-per-minute.sql", import.meta.url), "utf8");

const minuteRow = z.object({
  provider: z.string(),
  minute: z.date(),
  calls: z.number().int(),
  requests: z.number().int(),
  rate_limited: z.number().int(),
});

/** Calls, requests and 429s that one provider had in one minute. */
export interface ProviderMinuteCount {
  provider: string;
  minute: Date;
  calls: number;
  requests: number;
  rateLimited: number;
}

/**
 * Model calls per provider and minute since `since` (see sql/calls-per-minute.sql), oldest first;
 * minutes without calls are left out.
 */
export async function callsPerMinute(db: PrismaClient, since: Date): Promise<ProviderMinuteCount[]> {
  const rows = z.array(minuteRow).parse(await db.$queryRawUnsafe(CALLS_PER_MINUTE, since));
  return rows.map((row) => ({
    provider: row.provider,
    minute: row.minute,
    calls: row.calls,
    requests: row.requests,
    rateLimited: row.rate_limited,
  }));
}
