import { z } from "zod";
import { ProviderError } from "./errors.ts";
import type { ProviderName, Usage } from "./types.ts";

/**
 * The JSON Schema sent on the wire for an output schema: draft 2020-12 as zod emits it, with
 * `title` set to the schema name (Gemini carries no separate name) and no `$schema` key
 * (OpenAI's strict mode rejects unknown top-level keywords).
 */
export function toWireJsonSchema(schemaName: string, schema: z.ZodType): Record<string, unknown> {
  const json = z.toJSONSchema(schema, { target: "draft-2020-12", io: "output" }) as Record<string, unknown>;
  delete json.$schema;
  return { title: schemaName, ...json };
}

/**
 * Parses and validates a model's JSON answer. Throws `ProviderError` with `malformed_output` or
 * `schema_violation`, keeping the raw text and the (billed) usage.
 */
export function parseStructured<T>(
  provider: ProviderName,
  schema: z.ZodType<T>,
  text: string,
  usage: Usage,
): T {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new ProviderError(`${provider} returned output that is not JSON`, {
      provider,
      code: "malformed_output",
      text,
      usage,
      cause,
    });
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    throw new ProviderError(
      `${provider} returned JSON that violates the output schema: ${z.prettifyError(parsed.error)}`,
      { provider, code: "schema_violation", text, usage, cause: parsed.error },
    );
  }
  return parsed.data;
}
