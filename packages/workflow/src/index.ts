export type {
  FilesPhase,
  GeneratePhase,
  PhaseDefinition,
  PhaseKind,
  RoleDefinition,
  VotePhase,
  WorkflowDefinition,
} from "./definition.ts";
export { UnknownWorkflowError, WorkflowError, type WorkflowIssue } from "./errors.ts";
export {
  loadWorkflowFile,
  MAX_WORKFLOW_BYTES,
  parseWorkflow,
  WorkflowCatalog,
  workflowFromSnapshot,
} from "./load.ts";
export {
  type Disagreement,
  type Implementation,
  isOutputSchemaName,
  OUTPUT_SCHEMAS,
  type OutputSchemaName,
  type PlanComparison,
  planComparisonSchema,
  type Requirements,
  type Resolution,
  requirementsSchema,
  resolutionSchema,
  type TechnicalPlan,
  type TestSuite,
  technicalPlanSchema,
  testSuiteSchema,
  voteSchema,
} from "./output-schemas.ts";
export { type RunContext, readPath, renderTemplate, type TallyRow } from "./template.ts";
export { schemaHasFiles } from "./validate.ts";
