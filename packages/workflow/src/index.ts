export type {
  FilesPhase,
  GeneratePhase,
  GitPhase,
  PhaseDefinition,
  PhaseKind,
  ProviderChoice,
  RoleDefinition,
  TaskDefinition,
  VotePhase,
  WorkflowDefinition,
} from "./definition.ts";
export { formatPath, UnknownWorkflowError, WorkflowError, type WorkflowIssue } from "./errors.ts";
export {
  loadWorkflowFile,
  MAX_WORKFLOW_BYTES,
  parseWorkflow,
  WorkflowCatalog,
  workflowFromSnapshot,
} from "./load.ts";
export {
  type Disagreement,
  type GeneratedFileOutput,
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
  type VoteOutput,
  voteSchema,
} from "./output-schemas.ts";
export { readPath, renderTemplate, templateReferences } from "./template.ts";
export { schemaHasFiles } from "./validate.ts";
