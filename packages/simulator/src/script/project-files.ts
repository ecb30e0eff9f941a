import { readFileSync } from "node:fs";
import type { ProjectBrief } from "./brief.ts";
import type { GeneratedFile, Implementation, TestSuite } from "./shapes.ts";

// The generated project lives as real files under ./project (run `node --test` there to check it).
// Each file belongs to exactly one answer: backend files to backend_implementation, frontend files
// to frontend_implementation, tests to test_suite. package.json is built here from the title.

const PROJECT_DIR = new URL("./project/", import.meta.url);

const BACKEND_FILES: Record<string, string> = {
  "backend/server.js": "Entry point: reads PORT and HOST, starts the server, stops on SIGINT/SIGTERM",
  "backend/app.js": "HTTP routing: the /api JSON endpoints and static hosting of frontend/",
  "backend/store.js": "In-memory store of todos with ids and timestamps",
  "backend/validation.js": "Validation of create and update bodies with clear messages",
  "backend/http-utils.js": "JSON responses and size-limited JSON body parsing",
  "backend/static-files.js": "Serves frontend/ with content types and refuses path traversal",
};

const FRONTEND_FILES: Record<string, string> = {
  "frontend/index.html": "The page: new-item form, list, error line and filters",
  "frontend/app.js": "API client, in-memory state and rendering in vanilla JavaScript",
  "frontend/styles.css": "Styles for the page",
};

const TEST_FILES: Record<string, string> = {
  "tests/helpers.js": "Starts the real server on a free port and wraps fetch for JSON",
  "tests/api.test.js": "Every API endpoint: success paths, validation, 404, 405, 413, 415",
  "tests/frontend.test.js":
    "Static hosting, path traversal, and that every API call in frontend/app.js is served",
};

export const TEST_COMMAND = "node --test";

const cache = new Map<string, string>();

function read(path: string): string {
  let content = cache.get(path);
  if (content === undefined) {
    content = readFileSync(new URL(path, PROJECT_DIR), "utf8");
    cache.set(path, content);
  }
  return content;
}

function files(manifest: Record<string, string>, transform = (_path: string, content: string) => content) {
  return Object.entries(manifest).map(
    ([path, purpose]): GeneratedFile => ({ path, content: transform(path, read(path)), purpose }),
  );
}

export function packageJson(brief: ProjectBrief): string {
  const manifest = {
    name: brief.slug,
    version: "0.1.0",
    private: true,
    description: brief.title,
    type: "module",
    engines: { node: ">=22" },
    scripts: { start: "node backend/server.js", test: TEST_COMMAND },
  };
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

export function backendImplementationAnswer(brief: ProjectBrief): Implementation {
  return {
    summary:
      "A zero-dependency node:http server: JSON REST API for todos under /api (list, create, read, rename, " +
      "toggle, delete) with validation and proper status codes, an in-memory store, and static hosting of " +
      "frontend/. `npm start` runs it on PORT (default 3000).",
    files: [
      {
        path: "package.json",
        content: packageJson(brief),
        purpose: "Scripts: start and test; no dependencies",
      },
      ...files(BACKEND_FILES),
    ],
  };
}

export function frontendImplementationAnswer(brief: ProjectBrief): Implementation {
  const title = escapeHtml(brief.title);
  return {
    summary:
      "A single page in vanilla JavaScript served by the backend: add, rename (double-click), toggle, delete " +
      "and filter items, calling GET/POST /api/todos and PATCH/DELETE /api/todos/:id and showing API errors.",
    files: files(FRONTEND_FILES, (path, content) =>
      path === "frontend/index.html" ? content.replaceAll(">Todo List<", `>${title}<`) : content,
    ),
  };
}

export function testSuiteAnswer(): TestSuite {
  return {
    summary:
      "node:test suites that start the real server on a free port: every endpoint with its success and error " +
      "statuses, static hosting, and a contract check that each API call in frontend/app.js is served.",
    command: TEST_COMMAND,
    files: files(TEST_FILES),
  };
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}
