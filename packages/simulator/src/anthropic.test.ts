import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { SCRIPTED_SHAPES } from "./script/shapes.ts";
import { startSimulator } from "./simulator.ts";
import { caught, clientsFor, MODELS, scriptedWireSchema } from "./testing/clients.ts";
import type { Simulator } from "./types.ts";

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator();
});
afterAll(() => sim.close());
beforeEach(() => {
  sim.clearRequests();
  sim.clearFaults();
});

const post = (body: unknown, headers: Record<string, string> = { "x-api-key": "sim-anthropic-key" }) =>
  fetch(`${sim.env().ANTHROPIC_BASE_URL}/v1/messages`, {
    method: "POST",
    headers: { "content-type": "application/json", "anthropic-version": "2023-06-01", ...headers },
    body: JSON.stringify(body),
  });

describe("Anthropic messages", () => {
  test("answers a forced tool with a tool_use block and request-id", async () => {
    const { anthropic } = clientsFor(sim);
    const { data, request_id } = await anthropic.messages
      .create({
        model: MODELS.anthropic,
        max_tokens: 1024,
        system: [{ type: "text", text: "You are the backend expert." }],
        messages: [{ role: "user", content: [{ type: "text", text: "Vote on disagreement D1" }] }],
        tools: [
          { name: "other", input_schema: { type: "object", properties: {} } },
          { name: "vote", input_schema: scriptedWireSchema("vote") as Anthropic.Tool.InputSchema },
        ],
        tool_choice: { type: "tool", name: "vote" },
      })
      .withResponse();
    expect(request_id).toMatch(/^req_/);
    expect(data).toMatchObject({
      type: "message",
      role: "assistant",
      model: MODELS.anthropic,
      stop_reason: "tool_use",
    });
    expect(data.id).toMatch(/^msg_/);
    const [block] = data.content;
    expect(block).toMatchObject({
      type: "tool_use",
      name: "vote",
      input: { disagreementId: "D1", choice: "backend" },
    });
    expect(data.usage.input_tokens).toBeGreaterThan(0);
    expect(sim.requests()[0]?.schemaName).toBe("vote");
  });

  test("answers output_config.format json_schema with a text block of JSON", async () => {
    const { anthropic } = clientsFor(sim);
    const message = await anthropic.messages.create({
      model: MODELS.anthropic,
      max_tokens: 1024,
      messages: [{ role: "user", content: "Vote on D2" }],
      output_config: { format: { type: "json_schema", schema: scriptedWireSchema("vote") } },
    });
    expect(message.stop_reason).toBe("end_turn");
    const [block] = message.content;
    expect(block?.type).toBe("text");
    const vote = SCRIPTED_SHAPES.vote.parse(JSON.parse(block?.type === "text" ? block.text : ""));
    expect(vote).toMatchObject({ disagreementId: "D2", choice: "backend" });
    expect(sim.requests()[0]?.schemaName).toBe("vote");
  });

  test("answers plain text without tools or format", async () => {
    const { anthropic } = clientsFor(sim);
    const message = await anthropic.messages.create({
      model: MODELS.anthropic,
      max_tokens: 100,
      messages: [{ role: "user", content: "Hello" }],
    });
    expect(message.content).toMatchObject([
      { type: "text", text: expect.stringMatching(/Simulated anthropic/) },
    ]);
  });

  test("rejects invalid requests with 400 in Anthropic's error format", async () => {
    const missingMaxTokens = await post({ model: "m", messages: [{ role: "user", content: "x" }] });
    expect(missingMaxTokens.status).toBe(400);
    const body = (await missingMaxTokens.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ type: "error", error: { type: "invalid_request_error" } });
    expect(body.request_id).toBe(missingMaxTokens.headers.get("request-id"));
    expect(JSON.stringify(body)).toMatch(/max_tokens/);

    const unknownTool = await post({
      model: "m",
      max_tokens: 10,
      messages: [{ role: "user", content: "x" }],
      tools: [{ name: "a", input_schema: { type: "object" } }],
      tool_choice: { type: "tool", name: "b" },
    });
    expect(unknownTool.status).toBe(400);
  });

  test("accepts the key as x-api-key only when it matches", async () => {
    const body = { model: "m", max_tokens: 10, messages: [{ role: "user", content: "x" }] };
    expect((await post(body, {})).status).toBe(401);
    const wrong = await post(body, { "x-api-key": "nope" });
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toMatchObject({ type: "error", error: { type: "authentication_error" } });
    expect((await post(body)).status).toBe(200);
  });

  test("an overloaded fault is a 529 the SDK reports as OverloadedError", async () => {
    sim.injectFault({ provider: "anthropic", kind: "overloaded" });
    const error = await caught(
      clientsFor(sim).anthropic.messages.create({
        model: MODELS.anthropic,
        max_tokens: 10,
        messages: [{ role: "user", content: "x" }],
      }),
    );
    expect(error).toBeInstanceOf(Anthropic.OverloadedError);
    expect((error as InstanceType<typeof Anthropic.APIError>).status).toBe(529);
    expect((error as InstanceType<typeof Anthropic.APIError>).type).toBe("overloaded_error");
  });
});
