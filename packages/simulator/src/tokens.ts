/**
 * A deterministic token estimate: one token per four characters, at least one. Real tokenizers
 * differ; what matters to callers is that usage is plausible, stable and grows with the text.
 */
export function estimateTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}
