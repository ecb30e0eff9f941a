import { z } from "zod";
import { PHASE_KINDS } from "./statuses.ts";

// Workflows: the YAML definitions the API loaded, as clients read them, and validation of a
// posted document.

export const workflowName = z
  .string()
  .regex(/^[a-z][a-z0-9_-]*$/, "expected a workflow name such as software-project")
  .max(60);

export const workflowSummarySchema = z
  .object({
    name: z.string(),
    description: z.string(),
    phases: z.array(z.object({ id: z.string(), title: z.string(), kind: z.enum(PHASE_KINDS) })),
  })
  .meta({ id: "WorkflowSummary" });

export const workflowListSchema = z
  .object({ workflows: z.array(workflowSummarySchema) })
  .meta({ id: "WorkflowList" });

export type WorkflowSummary = z.infer<typeof workflowSummarySchema>;
export type WorkflowList = z.infer<typeof workflowListSchema>;

const providerChoice = z.object({ provider: z.string(), model: z.string() });

const roleSchema = z
  .object({
    id: z.string(),
    title: z.string(),
    system: z.string().meta({ description: "The system prompt of every call the role makes." }),
    providers: z
      .array(providerChoice)
      .meta({ description: "The first is used; the rest are its fallbacks." }),
  })
  .meta({ id: "WorkflowRole" });

const phaseBase = {
  id: z.string(),
  title: z.string(),
  needs: z.array(z.string()).meta({ description: "Phases whose results this phase reads." }),
  skipUnless: z
    .string()
    .nullable()
    .meta({ description: "A path: the phase is skipped when it is empty or absent." }),
};

const taskSchema = z.object({
  id: z.string(),
  role: z.string(),
  schema: z.string().meta({ description: "The output schema's name." }),
  prompt: z.string().meta({ description: "The prompt template." }),
  maxOutputTokens: z.int().nullable(),
  temperature: z.number().nullable(),
});

export const workflowPhaseSchema = z
  .discriminatedUnion("kind", [
    z.object({ ...phaseBase, kind: z.literal("generate"), tasks: z.array(taskSchema) }),
    z.object({
      ...phaseBase,
      kind: z.literal("vote"),
      voters: z.array(z.string()),
      items: z.string().meta({ description: "Path to the list voted on." }),
      maxItems: z.int(),
      schema: z.string(),
      prompt: z.string(),
    }),
    z.object({
      ...phaseBase,
      kind: z.literal("files"),
      sources: z.array(z.string()).meta({ description: "`<phase>.<task>` results whose files are written." }),
    }),
    z.object({ ...phaseBase, kind: z.literal("git") }),
  ])
  .meta({ id: "WorkflowPhase" });

export const workflowDetailSchema = z
  .object({
    name: z.string(),
    description: z.string(),
    roles: z.array(roleSchema),
    phases: z.array(workflowPhaseSchema),
  })
  .meta({ id: "Workflow", description: "A workflow definition: roles with their providers, and phases." });

export type WorkflowDetail = z.infer<typeof workflowDetailSchema>;
export type WorkflowPhase = z.infer<typeof workflowPhaseSchema>;

export const workflowParams = z.object({ name: workflowName });

/** `POST /api/workflows/validate`: the YAML text in a JSON body (JSON, like every body of this API). */
export const validateWorkflowBody = z
  .strictObject({
    yaml: z.string().min(1, "must not be empty").meta({
      description: "The workflow file's text (YAML, at most 256 KiB, like a workflow file).",
    }),
    file: z
      .string()
      .min(1)
      .max(200)
      // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
      .regex(/^[^\u0000-\u001f\u007f]+$/, "must be a file name without control characters")
      .optional()
      .meta({ description: "A name for the document in error messages. @default workflow.yaml" }),
  })
  .meta({ id: "ValidateWorkflow" });

export type ValidateWorkflow = z.input<typeof validateWorkflowBody>;

export const validWorkflowSchema = z
  .object({ valid: z.literal(true), workflow: workflowDetailSchema })
  .meta({ id: "ValidWorkflow" });

export type ValidWorkflow = z.infer<typeof validWorkflowSchema>;

/** `details` of a 422 WORKFLOW_INVALID: where each problem is and what was expected. */
export const workflowIssuesSchema = z
  .object({
    valid: z.literal(false),
    file: z.string(),
    issues: z.array(
      z.object({
        path: z.string().meta({
          description: "Inside the document, e.g. `phases[3].tasks[0].schema`; empty for the whole.",
        }),
        message: z.string().meta({ description: "What is wrong and what was expected." }),
        line: z.int().optional(),
        column: z.int().optional(),
      }),
    ),
  })
  .meta({ id: "WorkflowIssues" });

export type WorkflowIssues = z.infer<typeof workflowIssuesSchema>;
