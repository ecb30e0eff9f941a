import { describe, expect, test } from "vitest";
import type { z } from "zod";
import { checkValue } from "../schema-check.ts";
import { scriptedWireSchema } from "../testing/clients.ts";
import type { SimProvider } from "../types.ts";
import { readBrief } from "./brief.ts";
import { findVoteTarget, voteChoice } from "./deliberation.ts";
import { type ScriptContext, scriptedAnswer } from "./index.ts";
import { SCRIPTED_SHAPES, type ScriptedName } from "./shapes.ts";

const context = (
  prompt: string,
  provider: SimProvider = "openai",
  planComparison: "conflicts" | "agree" = "conflicts",
): ScriptContext => ({
  provider,
  prompt,
  planComparison,
});

type Shapes = typeof SCRIPTED_SHAPES;

function answer<N extends ScriptedName>(name: N, ctx: ScriptContext): z.infer<Shapes[N]> {
  return SCRIPTED_SHAPES[name].parse(scriptedAnswer(name, ctx)) as z.infer<Shapes[N]>;
}

describe("scripted answers", () => {
  test.each(Object.keys(SCRIPTED_SHAPES) as ScriptedName[])(
    "%s satisfies its shape and its wire schema",
    (name) => {
      for (const provider of ["openai", "anthropic", "gemini"] as const) {
        const value = scriptedAnswer(name, context("Build a todo list app. Vote on D2.", provider));
        expect(SCRIPTED_SHAPES[name].safeParse(value).error).toBeUndefined();
        expect(checkValue(scriptedWireSchema(name), value)).toEqual([]);
      }
    },
  );

  test("other schema names have no script", () => {
    expect(scriptedAnswer("city_report", context("x"))).toBeUndefined();
  });

  test("requirements take their title and summary from the request", () => {
    const value = answer(
      "requirements",
      context("You are the PM.\nRequest: Build a recipe book for my family\nAnswer in JSON."),
    );
    expect(value.title).toBe("Recipe Book");
    expect(value.summary).toContain("Build a recipe book for my family");
    expect(value.features.length).toBeGreaterThanOrEqual(4);
  });

  test("any prompt still gets a usable brief", () => {
    expect(readBrief("")).toEqual({
      request: "A simple list app for keeping track of items",
      title: "Simple List App",
      slug: "simple-list-app",
    });
    // Later phases carry the requirements' title.
    expect(readBrief('Requirements: {"title": "Chore Board", "summary": "…"}').title).toBe("Chore Board");
  });
});

describe("plan comparison, votes and resolution", () => {
  test("conflicts (the default) lists two disagreements; agree lists none", () => {
    const conflicts = answer("plan_comparison", context("compare"));
    expect(conflicts.disagreements.map((d) => d.id)).toEqual(["D1", "D2"]);
    expect(answer("plan_comparison", context("compare", "openai", "agree")).disagreements).toEqual([]);
  });

  test("anthropic votes backend, gemini frontend, openai by a stable hash", () => {
    const prompt = "Vote on disagreement D1";
    expect(answer("vote", context(prompt, "anthropic"))).toMatchObject({
      disagreementId: "D1",
      choice: "backend",
    });
    expect(answer("vote", context(prompt, "gemini"))).toMatchObject({
      disagreementId: "D1",
      choice: "frontend",
    });
    const openai = answer("vote", context(prompt, "openai"));
    expect(openai.choice).toBe(voteChoice("openai", "D1"));
    expect(answer("vote", context(prompt, "openai"))).toEqual(openai);
  });

  test.each([
    ["Vote on disagreement D2.", "D2"],
    ['{"disagreementId": "D7"}', "D7"],
    [
      'Disagreement:\n{"id":"D3","topic":"Caching","backendPosition":"a","frontendPosition":"b","severity":"low"}',
      "D3",
    ],
    ["All: D1, D2. Now vote on disagreement id: D2", "D2"],
    ['Plans: {"id":"F1","name":"List"} Disagreement {"id":"X-9","topic":"Naming"}', "X-9"],
    ["Please vote on D4 (the second one mentioned is D5)", "D4"],
    ["no id at all", "D1"],
    ['Answer as {"disagreementId": "<id>", "choice": …}. Vote on disagreement D3.', "D3"],
  ])("the vote reflects the disagreement in %j", (prompt, id) => {
    expect(findVoteTarget(prompt)).toBe(id);
    expect(answer("vote", context(prompt)).disagreementId).toBe(id);
  });

  test("the resolution decides every disagreement in the prompt by the votes' majority", () => {
    const comparison = answer("plan_comparison", context("compare"));
    const resolution = answer(
      "resolution",
      context(`Disagreements: ${JSON.stringify(comparison.disagreements)}`),
    );
    expect(resolution.decisions.map((d) => d.disagreementId)).toEqual(["D1", "D2"]);
    for (const decision of resolution.decisions) {
      const votes = (["openai", "anthropic", "gemini"] as const).map(
        (provider) =>
          answer("vote", context(`Vote on disagreement ${decision.disagreementId}`, provider)).choice,
      );
      const backend = votes.filter((v) => v === "backend").length;
      expect(decision.outcome).toBe(backend >= 2 ? "backend" : "frontend");
      expect(decision.topic).toBe(
        comparison.disagreements.find((d) => d.id === decision.disagreementId)?.topic,
      );
    }
  });

  test("the scripted code follows the winning positions: plain array list, no optimistic updates", () => {
    const comparison = answer("plan_comparison", context("compare"));
    const resolution = answer("resolution", context(JSON.stringify(comparison)));
    const outcome = (id: string) => resolution.decisions.find((d) => d.disagreementId === id)?.outcome;
    expect(outcome("D1")).toBe("frontend");
    expect(comparison.disagreements[0]?.frontendPosition).toMatch(/plain JSON array/);
    expect(outcome("D2")).toBe("backend");
    expect(comparison.disagreements[1]?.backendPosition).toMatch(/applies the item the API returns/);
    expect(resolution.finalDecision).toMatch(/plain array/);
  });

  test("with no ids in the prompt, the resolution covers the scenario's disagreements", () => {
    expect(answer("resolution", context("resolve")).decisions.map((d) => d.disagreementId)).toEqual([
      "D1",
      "D2",
    ]);
    expect(answer("resolution", context("resolve", "openai", "agree")).decisions).toEqual([]);
  });
});

describe("implementation file sets", () => {
  const prompt = 'Requirements: {"title": "Todo <List> App"}';
  const backend = answer("backend_implementation", context(prompt, "anthropic"));
  const frontend = answer("frontend_implementation", context(prompt, "gemini"));
  const tests = answer("test_suite", context(prompt));

  test("each file belongs to one set, in its own folder, with no README", () => {
    const paths = [backend, frontend, tests].flatMap((set) => set.files.map((f) => f.path));
    expect(new Set(paths).size).toBe(paths.length);
    expect(paths.some((p) => /readme/i.test(p))).toBe(false);
    expect(backend.files.every((f) => f.path === "package.json" || f.path.startsWith("backend/"))).toBe(true);
    expect(frontend.files.every((f) => f.path.startsWith("frontend/"))).toBe(true);
    expect(tests.files.every((f) => f.path.startsWith("tests/"))).toBe(true);
    expect(tests.command).toBe("node --test");
  });

  test("package.json starts the backend and runs node --test, with no dependencies", () => {
    const manifest = JSON.parse(backend.files.find((f) => f.path === "package.json")!.content);
    expect(manifest).toMatchObject({
      name: "todo-list-app",
      scripts: { start: "node backend/server.js", test: "node --test" },
    });
    expect(manifest.dependencies).toBeUndefined();
    expect(manifest.devDependencies).toBeUndefined();
  });

  test("the page shows the project's title, escaped", () => {
    const html = frontend.files.find((f) => f.path === "frontend/index.html")!.content;
    expect(html).toContain("<h1>Todo &#60;List&#62; App</h1>");
    expect(html).toContain("<title>Todo &#60;List&#62; App</title>");
  });
});
