import { createHash } from "node:crypto";
import type { PrismaClient } from "@foundry/db";

// The response cache shared across sessions that opt in (`cache: true`). An entry is keyed by a hash
// of everything that shapes the answer, and of the tenant (the API token's owner once tokens are per
// user: entries are never shared across tenants).

export interface CacheSettings {
  /** How long an entry may be reused (`CACHE_TTL`). @default 7 days */
  ttlMs: number;
  /** The most entries kept; the oldest go first (`CACHE_MAX_ENTRIES`). @default 10000 */
  maxEntries: number;
}

export const DEFAULT_CACHE: CacheSettings = { ttlMs: 7 * 24 * 3_600_000, maxEntries: 10_000 };

/** Everything that shapes an answer. */
export interface CacheableRequest {
  tenant: string;
  provider: string;
  model: string;
  schemaName: string;
  system: string;
  prompt: string;
  temperature?: number;
  maxOutputTokens?: number;
}

export function cacheKey(request: CacheableRequest): string {
  const canonical = JSON.stringify([
    request.tenant,
    request.provider,
    request.model,
    request.schemaName,
    request.system,
    request.prompt,
    request.temperature ?? null,
    request.maxOutputTokens ?? null,
  ]);
  return createHash("sha256").update(canonical, "utf8").digest("hex");
}

export async function findCachedResponse(db: PrismaClient, key: string) {
  return db.cachedResponse.findFirst({ where: { key, expiresAt: { gt: new Date() } } });
}

/**
 * Keeps an answer for later sessions (a first answer wins; an expired entry is replaced), and now and
 * then drops expired entries and the oldest beyond `maxEntries`.
 */
export async function saveCachedResponse(
  db: PrismaClient,
  settings: CacheSettings,
  key: string,
  entry: {
    provider: string;
    model: string;
    schemaName: string;
    response: unknown;
    responseText: string;
    inputTokens: number;
    outputTokens: number;
  },
): Promise<void> {
  const expiresAt = new Date(Date.now() + settings.ttlMs);
  await db.$executeRaw`
    INSERT INTO response_cache (key, provider, model, schema_name, response, response_text, input_tokens, output_tokens, expires_at)
    VALUES (${key}, ${entry.provider}, ${entry.model}, ${entry.schemaName}, ${JSON.stringify(entry.response)}::jsonb,
      ${entry.responseText}, ${entry.inputTokens}, ${entry.outputTokens}, ${expiresAt})
    ON CONFLICT (key) DO UPDATE SET response = EXCLUDED.response, response_text = EXCLUDED.response_text,
      input_tokens = EXCLUDED.input_tokens, output_tokens = EXCLUDED.output_tokens, hits = 0,
      created_at = now(), expires_at = EXCLUDED.expires_at
    WHERE response_cache.expires_at <= now()`;
  // About one save in fifty prunes: the table stays near its cap without a scheduled job.
  if (Math.random() < 0.02) await pruneCache(db, settings);
}

/** Drops expired entries, then the oldest beyond `maxEntries`. Returns how many went. */
export async function pruneCache(db: PrismaClient, settings: CacheSettings): Promise<number> {
  const expired = await db.$executeRaw`DELETE FROM response_cache WHERE expires_at <= now()`;
  const over = await db.$executeRaw`
    DELETE FROM response_cache WHERE key IN (
      SELECT key FROM response_cache ORDER BY created_at DESC OFFSET ${settings.maxEntries})`;
  return expired + over;
}

export type CachedResponse = NonNullable<Awaited<ReturnType<typeof findCachedResponse>>>;
