import { Prisma } from "@foundry/db";
import type { ProviderName, Usage } from "@foundry/llm";

/** USD per million tokens. */
export interface ModelPrice {
  input: number;
  output: number;
}

/** Prices by `<provider>/<model>`. */
export type PriceTable = Readonly<Record<string, ModelPrice>>;

/**
 * List prices of the default models and their predecessors (USD per 1M tokens, standard tier,
 * as published in November 2026). Prices change: override or extend them with the PRICES
 * environment variable (JSON of the same shape). A model without a price costs 0 and is flagged.
 */
export const DEFAULT_PRICES: PriceTable = {
  "openai/gpt-6-sol": { input: 2, output: 10 },
  "openai/gpt-6-luna": { input: 0.1, output: 0.5 },
  "openai/gpt-4.1": { input: 2, output: 8 },
  "openai/gpt-4.1-mini": { input: 0.4, output: 1.6 },
  "anthropic/claude-sonnet-5-5": { input: 2, output: 10 },
  "anthropic/claude-sonnet-5": { input: 2, output: 10 },
  "anthropic/claude-opus-5-5": { input: 4, output: 20 },
  "anthropic/claude-haiku-4-5": { input: 1, output: 5 },
  "gemini/gemini-3.8-flash": { input: 0.75, output: 3.75 },
  "gemini/gemini-2.5-pro": { input: 1.25, output: 10 },
  "gemini/gemini-2.5-flash": { input: 0.3, output: 2.5 },
};

/** The cost of a call, exact to the millionth of a dollar; zero for a model without a price. */
export function costOf(
  prices: PriceTable,
  provider: ProviderName,
  model: string,
  usage: Usage,
): Prisma.Decimal {
  const price = prices[`${provider}/${model}`];
  if (!price) return new Prisma.Decimal(0);
  return new Prisma.Decimal(usage.inputTokens)
    .mul(price.input)
    .plus(new Prisma.Decimal(usage.outputTokens).mul(price.output))
    .div(1_000_000)
    .toDecimalPlaces(6);
}

export function hasPrice(prices: PriceTable, provider: ProviderName, model: string): boolean {
  return Object.hasOwn(prices, `${provider}/${model}`);
}
