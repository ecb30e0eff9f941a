import { z } from "zod";

// Output schemas the workflow files refer to by name. They are written for OpenAI's strict
// structured outputs, which the other providers also accept: every property is required (use
// `.nullable()` for "may be absent"), objects are closed, no formats or pattern keywords.

const text = z.string();

export const requirementsSchema = z.strictObject({
  title: text.describe("Short project title"),
  summary: text.describe("What is being built and for whom, in two or three sentences"),
  features: z.array(
    z.strictObject({
      id: text.describe("Stable id such as F1"),
      name: text,
      description: text,
      priority: z.enum(["must", "should", "could"]),
    }),
  ),
  nonFunctional: z.array(text).describe("Performance, security, accessibility and other qualities"),
  constraints: z.array(text),
  assumptions: z
    .array(z.strictObject({ question: text, assumption: text }))
    .describe("Open questions in the request, each answered with a stated assumption"),
});

export const technicalPlanSchema = z.strictObject({
  summary: text,
  architecture: text,
  apiContract: z.array(
    z.strictObject({
      method: z.enum(["GET", "POST", "PUT", "PATCH", "DELETE"]),
      path: text,
      description: text,
      request: text.describe("Request body shape, or 'none'"),
      response: text.describe("Response body shape"),
    }),
  ),
  dataModel: z.array(z.strictObject({ entity: text, fields: z.array(text) })),
  components: z.array(z.strictObject({ name: text, responsibility: text })),
  dependencies: z.array(z.strictObject({ name: text, version: text, reason: text })),
  risks: z.array(text),
});

export const planComparisonSchema = z.strictObject({
  summary: text,
  disagreements: z.array(
    z.strictObject({
      id: text.describe("Stable id such as D1"),
      topic: text,
      backendPosition: text,
      frontendPosition: text,
      severity: z.enum(["low", "medium", "high"]),
    }),
  ),
});

export const voteSchema = z.strictObject({
  disagreementId: text,
  choice: z.enum(["backend", "frontend"]).describe("Whose position should be adopted"),
  rationale: text,
});

export const resolutionSchema = z.strictObject({
  decisions: z.array(
    z.strictObject({
      disagreementId: text,
      topic: text,
      outcome: z.enum(["backend", "frontend"]),
      tieBreak: z.boolean().describe("True when the votes were tied and the manager decided"),
      rationale: text,
    }),
  ),
  finalDecision: text.describe("The binding technical decision both implementations must follow"),
});

const generatedFile = z.strictObject({
  path: text.describe("Relative POSIX path inside the project, e.g. backend/server.js"),
  content: text,
  purpose: text,
});

export const implementationSchema = z.strictObject({
  summary: text,
  files: z.array(generatedFile),
});

export const testSuiteSchema = z.strictObject({
  summary: text,
  command: text.describe("The shell command that runs the tests from the project root"),
  files: z.array(generatedFile),
});

/**
 * Every output schema a workflow may name. Several names share a shape where the content differs
 * by purpose (a backend plan is not a frontend plan), so the name on the wire tells which is asked.
 */
export const OUTPUT_SCHEMAS = {
  requirements: requirementsSchema,
  backend_plan: technicalPlanSchema,
  frontend_plan: technicalPlanSchema,
  plan_comparison: planComparisonSchema,
  vote: voteSchema,
  resolution: resolutionSchema,
  backend_implementation: implementationSchema,
  frontend_implementation: implementationSchema,
  test_suite: testSuiteSchema,
} as const satisfies Record<string, z.ZodType>;

export type OutputSchemaName = keyof typeof OUTPUT_SCHEMAS;
export type Requirements = z.infer<typeof requirementsSchema>;
export type TechnicalPlan = z.infer<typeof technicalPlanSchema>;
export type PlanComparison = z.infer<typeof planComparisonSchema>;
export type Disagreement = PlanComparison["disagreements"][number];
export type Resolution = z.infer<typeof resolutionSchema>;
export type Implementation = z.infer<typeof implementationSchema>;
export type TestSuite = z.infer<typeof testSuiteSchema>;

export function isOutputSchemaName(name: string): name is OutputSchemaName {
  return Object.hasOwn(OUTPUT_SCHEMAS, name);
}
