import OpenAI from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { SCRIPTED_SHAPES } from "./script/shapes.ts";
import { startSimulator } from "./simulator.ts";
import { caught, clientsFor, scriptedWireSchema } from "./testing/clients.ts";
import type { Simulator } from "./types.ts";

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator();
});
afterAll(() => sim.close());
beforeEach(() => sim.clearRequests());

const post = (path: string, body: unknown, key = "sim-openai-key") =>
  fetch(`${sim.env().OPENAI_BASE_URL}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });

describe("OpenAI chat completions", () => {
  test("answers a chat.completion with x-request-id, as the SDK reads it", async () => {
    const { openai } = clientsFor(sim);
    const { data, response, request_id } = await openai.chat.completions
      .create({
        model: "gpt-4.1-mini",
        messages: [{ role: "user", content: [{ type: "text", text: "Vote on D2" }] }],
        response_format: {
          type: "json_schema",
          json_schema: { name: "vote", schema: scriptedWireSchema("vote"), strict: true },
        },
      })
      .withResponse();
    expect(request_id).toMatch(/^req_[0-9a-f]{32}$/);
    expect(response.headers.get("x-sim-seq")).toBe(String(sim.requests()[0]?.seq));
    expect(data).toMatchObject({
      object: "chat.completion",
      model: "gpt-4.1-mini",
      choices: [{ index: 0, finish_reason: "stop", message: { role: "assistant", refusal: null } }],
    });
    expect(data.id).toMatch(/^chatcmpl-/);
    expect(data.created).toBeGreaterThan(1_700_000_000);
    expect(data.usage!.total_tokens).toBe(data.usage!.prompt_tokens + data.usage!.completion_tokens);
    expect(JSON.parse(data.choices[0]!.message.content!)).toMatchObject({ disagreementId: "D2" });
  });

  test("answers json_object mode with JSON and free text without a format", async () => {
    const { openai } = clientsFor(sim);
    const json = await openai.chat.completions.create({
      model: "gpt-4.1",
      messages: [{ role: "user", content: "Give me JSON" }],
      response_format: { type: "json_object" },
    });
    expect(JSON.parse(json.choices[0]!.message.content!)).toEqual({});
    const text = await openai.chat.completions.create({
      model: "gpt-4.1",
      messages: [{ role: "user", content: "Hi" }],
    });
    expect(text.choices[0]!.message.content).toMatch(/Simulated openai answer/);
    expect(sim.requests().map((r) => r.schemaName)).toEqual([null, null]);
  });

  test("json_object mode: the schema written in the prompt shapes the answer, and names it", async () => {
    const { openai } = clientsFor(sim);
    const schema = JSON.stringify(scriptedWireSchema("backend_plan"));
    const completion = await openai.chat.completions.create({
      model: "gpt-4.1",
      messages: [
        { role: "system", content: `Answer with one JSON object matching this JSON Schema:\n${schema}` },
        { role: "user", content: 'Plan the backend for these requirements: {"title": "Grocery Tracker"}' },
      ],
      response_format: { type: "json_object" },
    });

    const value = JSON.parse(completion.choices[0]!.message.content!);
    expect(SCRIPTED_SHAPES.backend_plan.safeParse(value).success).toBe(true);
    // The scripted plan reads the requirements' title, not the schema's.
    expect(value.summary).toContain("Grocery Tracker");
    const [recorded] = sim.requests();
    expect(recorded).toMatchObject({ schemaName: "backend_plan", status: 200 });
    // The schema is input like the rest of the prompt.
    expect(completion.usage!.prompt_tokens).toBeGreaterThan(schema.length / 4);
  });

  test("json_object mode with an untitled schema in the prompt answers a value of that shape", async () => {
    const { openai } = clientsFor(sim);
    const schema = {
      type: "object",
      properties: { city: { type: "string" }, days: { type: "integer", minimum: 1 } },
      required: ["city", "days"],
      additionalProperties: false,
    };
    const completion = await openai.chat.completions.create({
      model: "gpt-4.1",
      messages: [
        { role: "user", content: `Plan a trip {maybe}. Reply in JSON like ${JSON.stringify(schema)}` },
      ],
      response_format: { type: "json_object" },
    });

    expect(JSON.parse(completion.choices[0]!.message.content!)).toEqual({
      city: expect.any(String),
      days: expect.any(Number),
    });
    expect(sim.requests()[0]?.schemaName).toBeNull();
  });

  test("json_object mode without the word JSON in the messages is a 400, as OpenAI answers it", async () => {
    const { openai } = clientsFor(sim);
    const error = await caught(
      openai.chat.completions.create({
        model: "gpt-4.1",
        messages: [{ role: "user", content: "Give me an object" }],
        response_format: { type: "json_object" },
      }),
    );
    expect((error as { status: number }).status).toBe(400);
    expect((error as Error).message).toContain("'messages' must contain the word 'json' in some form");
  });

  test("lists models", async () => {
    const { openai } = clientsFor(sim);
    const ids: string[] = [];
    for await (const model of openai.models.list()) ids.push(model.id);
    expect(ids).toContain("gpt-4.1");
  });

  test("rejects an invalid body with 400 in OpenAI's error format", async () => {
    const missing = await post("/chat/completions", { model: "gpt-4.1" });
    expect(missing.status).toBe(400);
    const body = (await missing.json()) as { error: Record<string, unknown> };
    expect(body.error).toMatchObject({ type: "invalid_request_error", param: null, code: null });
    expect(body.error.message).toMatch(/messages/);

    const streaming = await post("/chat/completions", {
      model: "m",
      messages: [{ role: "user", content: "x" }],
      stream: true,
    });
    expect(streaming.status).toBe(400);

    const notJson = await post("/chat/completions", "{oops");
    expect(notJson.status).toBe(400);
    expect(sim.requests().map((r) => r.status)).toEqual([400, 400, 400]);
  });

  test("checks the key before reading the body, as the API does", async () => {
    const res = await post("/chat/completions", "{oops", "nope");
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({
      error: { type: "invalid_request_error", code: "invalid_api_key" },
    });
    expect(res.headers.get("x-request-id")).toMatch(/^req_/);
  });

  test("answers unknown paths with 404 in OpenAI's format", async () => {
    const res = await post("/embeddings", { model: "x", input: "y" });
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: { code: "unknown_url" } });
    const { openai } = clientsFor(sim);
    const error = await caught(openai.embeddings.create({ model: "x", input: "y" }));
    expect(error).toBeInstanceOf(OpenAI.NotFoundError);
  });

  test("the SDK exposes the request id of a failed call", async () => {
    const error = await caught(
      clientsFor(sim, { openai: "wrong" }).openai.chat.completions.create({
        model: "gpt-4.1",
        messages: [{ role: "user", content: "x" }],
      }),
    );
    expect(error).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((error as InstanceType<typeof OpenAI.APIError>).requestID).toMatch(/^req_/);
  });
});
