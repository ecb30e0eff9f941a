import { API_CONTRACT, DATA_MODEL, RUNTIME_DEPENDENCY } from "./api-contract.ts";
import type { ProjectBrief } from "./brief.ts";
import type { TechnicalPlan } from "./shapes.ts";

// Both plans describe the same API. Their differences are the ones the plan comparison reports
// (list shape and pagination; how the browser keeps its state).

export function backendPlanAnswer(brief: ProjectBrief): TechnicalPlan {
  return {
    summary: `Backend for ${brief.title}: a node:http server with an in-memory store, a JSON REST API under /api and static hosting of the frontend folder.`,
    architecture:
      "backend/server.js starts the server; backend/app.js routes /api requests and serves frontend/ for everything else; " +
      "backend/store.js holds the items in a Map; backend/validation.js checks request bodies; backend/http-utils.js " +
      "reads JSON bodies (16 KiB limit) and writes JSON responses. The list endpoint returns { items, total } and " +
      "accepts limit/offset so that it can grow. The page should apply the item each write returns, because the " +
      "server assigns ids, trims titles and sets timestamps.",
    apiContract: API_CONTRACT.map((entry) =>
      entry.method === "GET" && entry.path === "/api/todos"
        ? {
            ...entry,
            description: "List items in creation order, paginated with ?limit= (default 50) and ?offset=",
            response: '200 { "items": Todo[], "total": number }',
          }
        : entry,
    ),
    dataModel: DATA_MODEL,
    components: [
      {
        name: "backend/server.js",
        responsibility: "Read PORT and HOST, listen, shut down on SIGINT/SIGTERM",
      },
      {
        name: "backend/app.js",
        responsibility: "Route API requests, map failures to status codes, serve static files",
      },
      {
        name: "backend/store.js",
        responsibility: "In-memory CRUD on items with generated ids and timestamps",
      },
      {
        name: "backend/validation.js",
        responsibility: "Validate create and update bodies with clear messages",
      },
      {
        name: "backend/static-files.js",
        responsibility: "Serve frontend/ with content types, refuse path traversal",
      },
    ],
    dependencies: [RUNTIME_DEPENDENCY],
    risks: [
      "Data is lost on restart (accepted: in-memory store)",
      "Unbounded list growth; a limit on the number of items may be needed later",
    ],
  };
}

export function frontendPlanAnswer(brief: ProjectBrief): TechnicalPlan {
  return {
    summary: `Frontend for ${brief.title}: one HTML page with vanilla JavaScript and CSS, served by the backend, calling its JSON API.`,
    architecture:
      "frontend/index.html holds the form, the list and the filters; frontend/app.js keeps the items in memory, " +
      "calls the API through one request() helper and re-renders from state; frontend/styles.css styles it. " +
      "The list endpoint returns a plain array of every item. Changes are shown optimistically, before the API " +
      "answers, and rolled back when it fails.",
    apiContract: API_CONTRACT,
    dataModel: DATA_MODEL,
    components: [
      { name: "frontend/index.html", responsibility: "Markup: new-item form, list, error line, filters" },
      { name: "frontend/app.js", responsibility: "API client, state, rendering, editing, filtering" },
      { name: "frontend/styles.css", responsibility: "Layout and the done/active styles" },
    ],
    dependencies: [RUNTIME_DEPENDENCY],
    risks: [
      "Two tabs can show different lists until reloaded",
      "Errors from the API must be shown to the user, not swallowed",
    ],
  };
}
