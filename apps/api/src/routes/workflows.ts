import { routes, type WorkflowIssues } from "@foundry/contract";
import { workflowDetail, workflowSummary } from "@foundry/engine";
import {
  MAX_WORKFLOW_BYTES,
  parseWorkflow,
  UnknownWorkflowError,
  type WorkflowCatalog,
  WorkflowError,
} from "@foundry/workflow";
import type { Hono } from "hono";
import { handle } from "../contract-route.ts";
import { ApiError } from "../errors.ts";

export interface WorkflowRoutesDeps {
  workflows: WorkflowCatalog;
}

/** `GET /api/workflows`, `GET /api/workflows/{name}` and `POST /api/workflows/validate`. */
export function workflowRoutes(app: Hono, deps: WorkflowRoutesDeps): void {
  handle(app, routes.listWorkflows, (c) =>
    c.json({ workflows: deps.workflows.names().map((name) => workflowSummary(deps.workflows.get(name))) }),
  );

  handle(app, routes.getWorkflow, (c, { params: { name } }) => {
    try {
      return c.json(workflowDetail(deps.workflows.get(name)));
    } catch (error) {
      if (!(error instanceof UnknownWorkflowError)) throw error;
      throw new ApiError(404, "NOT_FOUND", error.message, { available: error.available });
    }
  });

  // The workflow package's loader, as the API uses at start: the same limits (size, aliases) and
  // the same messages (file, line, column, path, what was expected).
  handle(app, routes.validateWorkflow, (c, { body }) => {
    const file = body.file ?? "workflow.yaml";
    const bytes = Buffer.byteLength(body.yaml, "utf8");
    if (bytes > MAX_WORKFLOW_BYTES) {
      throw new ApiError(
        413,
        "PAYLOAD_TOO_LARGE",
        `yaml: the document is ${bytes} bytes; a workflow may be at most ${MAX_WORKFLOW_BYTES}`,
        { issues: [{ path: "yaml", message: `at most ${MAX_WORKFLOW_BYTES} bytes` }] },
      );
    }
    try {
      return c.json({ valid: true as const, workflow: workflowDetail(parseWorkflow(body.yaml, file)) });
    } catch (error) {
      if (!(error instanceof WorkflowError)) throw error;
      const details: WorkflowIssues = {
        valid: false,
        file,
        issues: error.issues.map((issue) => ({
          path: issue.path,
          message: issue.message,
          ...(issue.line !== undefined && { line: issue.line }),
          ...(issue.column !== undefined && { column: issue.column }),
        })),
      };
      throw new ApiError(422, "WORKFLOW_INVALID", error.message, details);
    }
  });
}
