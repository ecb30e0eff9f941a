import { PROVIDERS } from "@foundry/llm";
import { z } from "zod";
import { OUTPUT_SCHEMAS } from "./output-schemas.ts";

// The shape of a workflow file. Cross-references (roles, schemas, template variables, phase order)
// are checked afterwards in validate.ts, which knows the whole document.

const id = z
  .string()
  .regex(/^[a-z][a-z0-9_]*$/, "expected a lower-case identifier (letters, digits, _; starting with a letter)")
  .max(40);

const schemaName = z.enum(
  Object.keys(OUTPUT_SCHEMAS) as [keyof typeof OUTPUT_SCHEMAS, ...(keyof typeof OUTPUT_SCHEMAS)[]],
  {
    error: (issue) =>
      `unknown output schema ${JSON.stringify(issue.input)} (expected one of: ${Object.keys(OUTPUT_SCHEMAS).join(", ")})`,
  },
);

const providerChoice = z.strictObject({
  provider: z.enum(PROVIDERS, {
    error: (issue) =>
      `unknown provider ${JSON.stringify(issue.input)} (expected one of: ${PROVIDERS.join(", ")})`,
  }),
  model: z.string().min(1),
});

const role = z.strictObject({
  title: z.string().min(1),
  /** Instructions sent as the system prompt of every call this role makes. */
  system: z.string().min(1),
  /** Ordered: the first is used; the rest are fallbacks when it is unavailable. */
  providers: z.array(providerChoice).min(1),
});

const task = z.strictObject({
  id,
  role: id,
  schema: schemaName,
  prompt: z.string().min(1),
  /** @default 8192 */
  max_output_tokens: z.number().int().min(256).max(64_000).optional(),
  temperature: z.number().min(0).max(2).optional(),
});

const phaseBase = {
  id,
  title: z.string().min(1),
  /** Phases whose results this phase reads; each must come earlier in the file. */
  needs: z.array(id).default([]),
  /** A path such as `comparison.comparison.disagreements`: the phase is skipped when it is empty or absent. */
  skip_unless: z.string().min(1).optional(),
};

const generatePhase = z.strictObject({
  ...phaseBase,
  kind: z.literal("generate"),
  /** Run in parallel; each is one model call. */
  tasks: z.array(task).min(1),
});

const votePhase = z.strictObject({
  ...phaseBase,
  kind: z.literal("vote"),
  /** Roles that vote; each votes on each item in parallel. */
  voters: z.array(id).min(1),
  /** Path to the list of disagreements to vote on (each item needs `id` and `topic`). */
  items: z.string().min(1),
  /** More items than this fail the phase (each item costs one call per voter). @default 10 */
  max_items: z.number().int().min(1).max(100).default(10),
  schema: schemaName,
  prompt: z.string().min(1),
});

const filesPhase = z.strictObject({
  ...phaseBase,
  kind: z.literal("files"),
  /** `<phase>.<task>` results whose `files` are written, in this order. */
  sources: z.array(z.string().regex(/^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$/, "expected <phase>.<task>")).min(1),
});

const gitPhase = z.strictObject({
  ...phaseBase,
  kind: z.literal("git"),
});

// `kind` may be left out for the common case; the discriminated union then reports errors against
// the one variant the phase claims to be, not against all four.
const phase = z.preprocess(
  (value) =>
    value !== null && typeof value === "object" && !Array.isArray(value) && !("kind" in value)
      ? { ...value, kind: "generate" }
      : value,
  z.discriminatedUnion("kind", [generatePhase, votePhase, filesPhase, gitPhase], {
    error: (issue) =>
      issue.code === "invalid_union"
        ? "unknown phase kind (expected generate, vote, files or git)"
        : undefined,
  }),
);

export const workflowFileSchema = z.strictObject({
  /** Must equal the file name without its extension; sessions name their workflow by it. */
  name: z
    .string()
    .regex(/^[a-z][a-z0-9_-]*$/, "expected lower-case letters, digits, - and _")
    .max(60),
  description: z.string().default(""),
  /** The default budget (USD) of a session of this workflow; a submission may set its own. */
  budget_usd: z.number().positive().max(1_000_000).optional(),
  /** Sessions of this workflow reuse identical answers from the response cache by default. */
  cache: z.boolean().optional(),
  roles: z.record(id, role).refine((roles) => Object.keys(roles).length > 0, "define at least one role"),
  phases: z.array(phase).min(1),
});

export type WorkflowDefinition = z.infer<typeof workflowFileSchema>;
export type RoleDefinition = WorkflowDefinition["roles"][string];
export type PhaseDefinition = WorkflowDefinition["phases"][number];
export type GeneratePhase = z.infer<typeof generatePhase>;
export type VotePhase = z.infer<typeof votePhase>;
export type FilesPhase = z.infer<typeof filesPhase>;
export type PhaseKind = PhaseDefinition["kind"];
