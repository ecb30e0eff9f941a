import { fnv1a } from "../random.ts";
import type { SimProvider } from "../types.ts";
import { jsonObjectsIn } from "./json-in-text.ts";
import type { Disagreement, PlanComparison, Resolution, Vote } from "./shapes.ts";

type Side = "backend" | "frontend";

// The two points the scripted plans differ on. The winning side of each (the majority of the three
// votes below) is what the scripted implementation does: a plain array without pagination, and a
// page that applies what the server returns instead of optimistic updates.
const SCRIPTED_DISAGREEMENTS: Disagreement[] = [
  {
    id: "D1",
    topic: "List response shape and pagination for GET /api/todos",
    backendPosition: "Return { items, total } and accept ?limit= and ?offset= so that the list can grow.",
    frontendPosition:
      "Return a plain JSON array of every item; the list is small and the page shows all of it.",
    severity: "medium",
  },
  {
    id: "D2",
    topic: "Client state after a change",
    backendPosition:
      "After each write the page applies the item the API returns: the server assigns ids, trims titles and sets timestamps.",
    frontendPosition: "Update the page optimistically before the API answers and roll back when it fails.",
    severity: "low",
  },
];

export const FINAL_DECISION =
  "Build exactly the API both plans list: GET/POST /api/todos and GET/PATCH/DELETE /api/todos/:id plus GET /api/health, " +
  'JSON bodies, errors as { "error": message } with 400/404/405/413/415. GET /api/todos returns a plain array of every ' +
  "item, without pagination. The server owns validation, ids and timestamps; after each write the page applies the " +
  "item the API returned (no optimistic updates). The backend serves the frontend folder; no npm dependencies.";

export function planComparisonAnswer(scenario: "conflicts" | "agree"): PlanComparison {
  if (scenario === "agree") {
    return {
      summary: "The plans agree on the routes, the Todo model, the list shape and the zero-dependency stack.",
      disagreements: [],
    };
  }
  return {
    summary:
      "The plans agree on the routes, the Todo model and the zero-dependency stack. They differ on the list " +
      "response (pagination) and on how the page updates after a change.",
    disagreements: SCRIPTED_DISAGREEMENTS,
  };
}

/**
 * Each expert defends its own plan; the manager's vote is a stable hash of the id, so it decides
 * every two-to-one majority. The salt is chosen so that D1 and D2 go the way the scripted code does.
 */
export function voteChoice(provider: SimProvider, disagreementId: string): Side {
  if (provider === "anthropic") return "backend";
  if (provider === "gemini") return "frontend";
  return fnv1a(`openai-vote:${disagreementId}`) % 2 === 0 ? "backend" : "frontend";
}

export function voteAnswer(provider: SimProvider, prompt: string): Vote {
  const id = findVoteTarget(prompt);
  const choice = voteChoice(provider, id);
  const topic = topicOf(id, findDisagreements(prompt));
  return {
    disagreementId: id,
    choice,
    rationale:
      choice === "backend"
        ? `On "${topic}", the backend position keeps the server the single source of truth and the contract explicit.`
        : `On "${topic}", the frontend position keeps the page simple and matches how the list is used.`,
  };
}

export function resolutionAnswer(prompt: string, scenario: "conflicts" | "agree"): Resolution {
  const found = findDisagreements(prompt);
  let ids = unique([...found.map((d) => d.id), ...mentionedIds(prompt)]);
  if (ids.length === 0 && scenario === "conflicts") ids = SCRIPTED_DISAGREEMENTS.map((d) => d.id);
  return {
    decisions: ids.map((id) => {
      const outcome = voteChoice("openai", id);
      return {
        disagreementId: id,
        topic: topicOf(id, found),
        outcome,
        tieBreak: false,
        rationale: `Two of three votes chose the ${outcome} position; the implementation follows it.`,
      };
    }),
    finalDecision: FINAL_DECISION,
  };
}

/** The one disagreement a vote prompt asks about, read as tolerantly as possible. */
export function findVoteTarget(prompt: string): string {
  // Id-like values only: a prompt may show the answer's shape with a placeholder such as "<id>".
  const explicitJson = /"disagreementId"\s*:\s*"([\w-]+)"/.exec(prompt);
  if (explicitJson) return explicitJson[1]!;
  const phrase = /\bdisagreement\s*(?:id\s*)?[:#]?\s*["'`(]?\s*(D\d+)\b/i.exec(prompt);
  if (phrase) return phrase[1]!;
  const objects = unique(findDisagreements(prompt).map((d) => d.id));
  if (objects.length === 1) return objects[0]!;
  return mentionedIds(prompt)[0] ?? objects[0] ?? "D1";
}

/** JSON objects in the prompt that look like disagreements (an `id` and a `topic`), in order. */
export function findDisagreements(prompt: string): { id: string; topic: string }[] {
  const found: { id: string; topic: string }[] = [];
  for (const object of jsonObjectsIn(prompt)) {
    const { id, topic } = object;
    if (typeof id === "string" && typeof topic === "string") found.push({ id, topic });
  }
  return found;
}

function mentionedIds(prompt: string): string[] {
  const fromVotes = [...prompt.matchAll(/"disagreementId"\s*:\s*"([\w-]+)"/g)].map((m) => m[1]!);
  const tokens = [...prompt.matchAll(/\bD\d+\b/g)].map((m) => m[0]);
  return unique([...fromVotes, ...tokens]);
}

function topicOf(id: string, found: { id: string; topic: string }[]): string {
  return (
    found.find((d) => d.id === id)?.topic ??
    SCRIPTED_DISAGREEMENTS.find((d) => d.id === id)?.topic ??
    `Disagreement ${id}`
  );
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}
