import type { TechnicalPlan } from "./shapes.ts";

// The API the scripted project implements, stated once so that both plans, the resolution and the
// summaries describe exactly what backend/app.js serves and frontend/app.js calls.

export const TODO_FIELDS = [
  "id: string (assigned by the server)",
  "title: string (1-200 characters, trimmed)",
  "done: boolean",
  "createdAt: string (ISO 8601)",
  "updatedAt: string (ISO 8601)",
];

export const API_CONTRACT: TechnicalPlan["apiContract"] = [
  {
    method: "GET",
    path: "/api/health",
    description: "Liveness check",
    request: "none",
    response: '200 { "status": "ok" }',
  },
  {
    method: "GET",
    path: "/api/todos",
    description: "List all items in creation order",
    request: "none",
    response: "200 Todo[] (a plain JSON array, no pagination)",
  },
  {
    method: "POST",
    path: "/api/todos",
    description: "Create an item",
    request: '{ "title": string, "done"?: boolean }',
    response: '201 Todo with a Location header; 400/413/415 { "error": string }',
  },
  {
    method: "GET",
    path: "/api/todos/:id",
    description: "Read one item",
    request: "none",
    response: '200 Todo; 404 { "error": string }',
  },
  {
    method: "PATCH",
    path: "/api/todos/:id",
    description: "Rename an item or toggle it done (partial update)",
    request: '{ "title"?: string, "done"?: boolean } (at least one)',
    response: '200 Todo; 400/404 { "error": string }',
  },
  {
    method: "DELETE",
    path: "/api/todos/:id",
    description: "Delete an item",
    request: "none",
    response: '204 no body; 404 { "error": string }',
  },
];

export const DATA_MODEL: TechnicalPlan["dataModel"] = [{ entity: "Todo", fields: TODO_FIELDS }];

export const RUNTIME_DEPENDENCY: TechnicalPlan["dependencies"][number] = {
  name: "node",
  version: ">=22",
  reason: "Runtime only: node:http serves the app and node:test runs the tests; no npm packages",
};
