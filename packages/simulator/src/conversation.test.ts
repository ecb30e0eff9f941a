import type Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { SCRIPTED_SHAPES } from "./script/shapes.ts";
import { startSimulator } from "./simulator.ts";
import { caught, clientsFor, MODELS, scriptedWireSchema, statusOf } from "./testing/clients.ts";
import type { Simulator } from "./types.ts";

// Multi-turn conversations (a repair turn: the prompt, the model's rejected answer, a user turn
// asking for a corrected one) on each protocol, and the rules each provider's reference sets for
// them.

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator();
});
afterAll(() => sim.close());
beforeEach(() => {
  sim.clearRequests();
  sim.clearFaults();
});

const PROMPT = "Vote on disagreement D2";
const REJECTED = '{"disagreementId":"D2"}';
const REPAIR = "Your previous answer was rejected: choice is missing. Answer again with a corrected vote.";
const voteSchema = scriptedWireSchema("vote");
const isVote = (value: unknown) => SCRIPTED_SHAPES.vote.safeParse(value).success;

describe("openai", () => {
  const create = (messages: { role: string; content: string }[]) =>
    clientsFor(sim).openai.chat.completions.create({
      model: MODELS.openai,
      messages: messages as never,
      response_format: {
        type: "json_schema",
        json_schema: { name: "vote", schema: voteSchema, strict: true },
      },
    });

  test("a repair conversation gets a malformed answer first and a valid one on the repair turn", async () => {
    sim.injectFault({ provider: "openai", kind: "malformed_json", times: 1 });
    const first = await create([{ role: "user", content: PROMPT }]);
    const text = first.choices[0]!.message.content!;
    expect(() => JSON.parse(text)).toThrow();

    const repaired = await create([
      { role: "user", content: PROMPT },
      { role: "assistant", content: text },
      { role: "user", content: REPAIR },
    ]);

    expect(isVote(JSON.parse(repaired.choices[0]!.message.content!))).toBe(true);
    expect(sim.requests().map((r) => [r.status, r.fault])).toEqual([
      [200, "malformed_json"],
      [200, null],
    ]);
  });

  test("a role the API does not know is a 400 naming it", async () => {
    const error = await caught(create([{ role: "model", content: PROMPT }]));
    expect(statusOf(error)).toBe(400);
    expect((error as Error).message).toContain("messages.0.role");
  });
});

describe("anthropic (forced tool)", () => {
  const create = (messages: Anthropic.MessageParam[]) =>
    clientsFor(sim).anthropic.messages.create({
      model: MODELS.anthropic,
      max_tokens: 1024,
      messages,
      tools: [{ name: "vote", input_schema: voteSchema as Anthropic.Tool.InputSchema }],
      tool_choice: { type: "tool", name: "vote" },
    });
  const toolUse = (id: string): Anthropic.MessageParam => ({
    role: "assistant",
    content: [{ type: "tool_use", id, name: "vote", input: JSON.parse(REJECTED) }],
  });
  const toolResult = (id: string, ...more: Anthropic.ContentBlockParam[]): Anthropic.MessageParam => ({
    role: "user",
    content: [{ type: "tool_result", tool_use_id: id, is_error: true, content: REPAIR }, ...more],
  });

  test("the rejected tool call answered by an is_error tool_result is accepted, and answered", async () => {
    sim.injectFault({ provider: "anthropic", kind: "schema_violation", times: 1 });
    const first = await create([{ role: "user", content: PROMPT }]);
    expect(first.content[0]).toMatchObject({ type: "tool_use" });

    const repaired = await create([
      { role: "user", content: PROMPT },
      toolUse("toolu_1"),
      toolResult("toolu_1"),
    ]);

    const [block] = repaired.content;
    expect(block?.type).toBe("tool_use");
    expect(isVote(block?.type === "tool_use" ? block.input : null)).toBe(true);
    // What the tool result says counts as input, as the API bills it.
    expect(sim.requests()[1]?.status).toBe(200);
  });

  test("a rejected text answer sent back as an assistant text block is accepted", async () => {
    const repaired = await create([
      { role: "user", content: PROMPT },
      { role: "assistant", content: [{ type: "text", text: "Here is my vote: {" }] },
      { role: "user", content: REPAIR },
    ]);
    expect(repaired.content[0]).toMatchObject({ type: "tool_use", name: "vote" });
  });

  test.each<[string, Anthropic.MessageParam[], RegExp]>([
    [
      "a tool_use with no tool_result after it",
      [{ role: "user", content: PROMPT }, toolUse("toolu_1"), { role: "user", content: REPAIR }],
      /`tool_use` ids were found without `tool_result` blocks immediately after: toolu_1/,
    ],
    [
      "a tool_result naming an id the turn before did not use",
      [
        { role: "user", content: PROMPT },
        toolUse("toolu_1"),
        toolResult("toolu_1", { type: "tool_result", tool_use_id: "toolu_2", content: "?" }),
      ],
      /unexpected `tool_use_id` found in `tool_result` blocks: toolu_2/,
    ],
    [
      "text before the tool_result",
      [
        { role: "user", content: PROMPT },
        toolUse("toolu_1"),
        {
          role: "user",
          content: [
            { type: "text", text: "Note:" },
            { type: "tool_result", tool_use_id: "toolu_1", content: REPAIR },
          ],
        },
      ],
      /tool_result blocks must come first/,
    ],
    [
      "an empty assistant text block",
      [
        { role: "user", content: PROMPT },
        { role: "assistant", content: [{ type: "text", text: " " }] },
        { role: "user", content: REPAIR },
      ],
      /messages\.1\.content\.0: text content blocks must contain non-whitespace text/,
    ],
  ])("%s is a 400 in the API's words", async (_, messages, words) => {
    const error = await caught(create(messages));
    expect(statusOf(error)).toBe(400);
    expect((error as Error).message).toMatch(words);
  });
});

describe("gemini", () => {
  const generate = (contents: { role: string; parts: { text: string }[] }[]) =>
    clientsFor(sim).gemini.models.generateContent({
      model: MODELS.gemini,
      contents,
      config: { responseMimeType: "application/json", responseJsonSchema: voteSchema },
    });

  test("a repair conversation with the model's turn is answered", async () => {
    sim.injectFault({ provider: "gemini", kind: "schema_violation", times: 1 });
    const first = await generate([{ role: "user", parts: [{ text: PROMPT }] }]);
    expect(isVote(JSON.parse(first.text!))).toBe(false);

    const repaired = await generate([
      { role: "user", parts: [{ text: PROMPT }] },
      { role: "model", parts: [{ text: first.text! }] },
      { role: "user", parts: [{ text: REPAIR }] },
    ]);

    expect(isVote(JSON.parse(repaired.text!))).toBe(true);
  });

  test("a role other than user or model is a 400", async () => {
    const error = await caught(generate([{ role: "assistant", parts: [{ text: PROMPT }] }]));
    expect(statusOf(error)).toBe(400);
    expect((error as Error).message).toContain("contents.0.role");
  });
});
