import { z } from "zod";

// The simulator's own reading of the workflow's output contracts, kept apart from the engine's
// definitions on purpose: the scripted answers are checked against these shapes (and against the
// JSON schema each request carries), so a drift between the two shows up as a failing test.

const text = z.string();
const generatedFile = z.strictObject({ path: text, content: text, purpose: text });

export const requirementsShape = z.strictObject({
  title: text,
  summary: text,
  features: z.array(
    z.strictObject({
      id: text,
      name: text,
      description: text,
      priority: z.enum(["must", "should", "could"]),
    }),
  ),
  nonFunctional: z.array(text),
  constraints: z.array(text),
  assumptions: z.array(z.strictObject({ question: text, assumption: text })),
});

export const technicalPlanShape = z.strictObject({
  summary: text,
  architecture: text,
  apiContract: z.array(
    z.strictObject({
      method: z.enum(["GET", "POST", "PUT", "PATCH", "DELETE"]),
      path: text,
      description: text,
      request: text,
      response: text,
    }),
  ),
  dataModel: z.array(z.strictObject({ entity: text, fields: z.array(text) })),
  components: z.array(z.strictObject({ name: text, responsibility: text })),
  dependencies: z.array(z.strictObject({ name: text, version: text, reason: text })),
  risks: z.array(text),
});

export const planComparisonShape = z.strictObject({
  summary: text,
  disagreements: z.array(
    z.strictObject({
      id: text,
      topic: text,
      backendPosition: text,
      frontendPosition: text,
      severity: z.enum(["low", "medium", "high"]),
    }),
  ),
});

export const voteShape = z.strictObject({
  disagreementId: text,
  choice: z.enum(["backend", "frontend"]),
  rationale: text,
});

export const resolutionShape = z.strictObject({
  decisions: z.array(
    z.strictObject({
      disagreementId: text,
      topic: text,
      outcome: z.enum(["backend", "frontend"]),
      tieBreak: z.boolean(),
      rationale: text,
    }),
  ),
  finalDecision: text,
});

export const implementationShape = z.strictObject({ summary: text, files: z.array(generatedFile) });

export const testSuiteShape = z.strictObject({ summary: text, command: text, files: z.array(generatedFile) });

/** The schema names the simulator has scripted answers for, with their shapes. */
export const SCRIPTED_SHAPES = {
  requirements: requirementsShape,
  backend_plan: technicalPlanShape,
  frontend_plan: technicalPlanShape,
  plan_comparison: planComparisonShape,
  vote: voteShape,
  resolution: resolutionShape,
  backend_implementation: implementationShape,
  frontend_implementation: implementationShape,
  test_suite: testSuiteShape,
} as const;

export type ScriptedName = keyof typeof SCRIPTED_SHAPES;
export type Requirements = z.infer<typeof requirementsShape>;
export type TechnicalPlan = z.infer<typeof technicalPlanShape>;
export type PlanComparison = z.infer<typeof planComparisonShape>;
export type Disagreement = PlanComparison["disagreements"][number];
export type Vote = z.infer<typeof voteShape>;
export type Resolution = z.infer<typeof resolutionShape>;
export type Implementation = z.infer<typeof implementationShape>;
export type TestSuite = z.infer<typeof testSuiteShape>;
export type GeneratedFile = Implementation["files"][number];

export function isScriptedName(name: string): name is ScriptedName {
  return Object.hasOwn(SCRIPTED_SHAPES, name);
}
