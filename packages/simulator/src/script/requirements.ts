import type { ProjectBrief } from "./brief.ts";
import type { Requirements } from "./shapes.ts";

export function requirementsAnswer(brief: ProjectBrief): Requirements {
  return {
    title: brief.title,
    summary:
      `${brief.title}: a small web app built from the request "${brief.request}". ` +
      "People keep a list of items in the browser, add, rename, tick off and delete them; " +
      "a JSON API on a zero-dependency Node.js server stores the list in memory.",
    features: [
      {
        id: "F1",
        name: "List items",
        description: "Show every item with its done state, oldest first.",
        priority: "must",
      },
      {
        id: "F2",
        name: "Add an item",
        description: "Add an item with a title of 1 to 200 characters.",
        priority: "must",
      },
      { id: "F3", name: "Toggle done", description: "Mark an item done or not done.", priority: "must" },
      { id: "F4", name: "Delete an item", description: "Remove an item for good.", priority: "must" },
      { id: "F5", name: "Rename an item", description: "Edit an item's title in place.", priority: "should" },
      {
        id: "F6",
        name: "Filter the list",
        description: "Show all, only active or only done items.",
        priority: "could",
      },
    ],
    nonFunctional: [
      "Runs offline with Node.js 22 or later and no npm install",
      "Every API error answers a JSON body with a message and the right 4xx status",
      "Keyboard accessible: labelled controls, Enter to add, Escape to cancel an edit",
      "Titles are rendered as text, never as HTML",
    ],
    constraints: [
      "No runtime dependencies: node:http for the server, vanilla JavaScript in the browser",
      "`npm start` starts the server; `npm test` runs the tests with node:test",
    ],
    assumptions: [
      {
        question: "Do items need to survive a restart?",
        assumption: "No: an in-memory store is enough for this version.",
      },
      { question: "Are there user accounts?", assumption: "No: one shared list, no authentication." },
      {
        question: "How many items are expected?",
        assumption: "Hundreds at most, so the list is not paginated.",
      },
    ],
  };
}
