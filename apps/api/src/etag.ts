import { createHash } from "node:crypto";

/** A weak ETag from a fingerprint (the answer is the same resource state, not the same bytes). */
export function weakEtag(prefix: string, fingerprint: string): string {
  return `W/"${prefix}-${fingerprint}"`;
}

/** A short hash of a value's JSON, for ETags of answers built in full anyway. */
export function jsonFingerprint(value: unknown): string {
  return createHash("sha256").update(JSON.stringify(value)).digest("base64url").slice(0, 27);
}

/**
 * Whether an `If-None-Match` header matches `etag` (weak comparison, as RFC 9110 asks for
 * If-None-Match): `*`, or one of its comma-separated tags with or without `W/`.
 */
export function ifNoneMatchHits(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  const opaque = (tag: string) => tag.trim().replace(/^W\//, "");
  const wanted = opaque(etag);
  return header.split(",").some((tag) => tag.trim() === "*" || opaque(tag) === wanted);
}
