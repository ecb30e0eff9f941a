import { ApiError, GoogleGenAI, Type } from "@google/genai";
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
beforeEach(() => {
  sim.clearRequests();
  sim.clearFaults();
});

describe("Gemini generateContent", () => {
  test("@google/genai 3.3 calls /v1/models/{model}:generateContent and reads the answer", async () => {
    const { gemini } = clientsFor(sim);
    const response = await gemini.models.generateContent({
      model: "gemini-2.5-flash",
      contents: [{ role: "user", parts: [{ text: "Vote on disagreement D2" }] }],
      config: { responseMimeType: "application/json", responseJsonSchema: scriptedWireSchema("vote") },
    });
    expect(sim.requests()[0]).toMatchObject({
      path: "/gemini/v1/models/gemini-2.5-flash:generateContent",
      model: "gemini-2.5-flash",
      schemaName: "vote",
    });
    expect(response.candidates?.[0]).toMatchObject({ finishReason: "STOP", content: { role: "model" } });
    expect(response.modelVersion).toBe("gemini-2.5-flash");
    expect(response.responseId).toBeTruthy();
    const usage = response.usageMetadata!;
    expect(usage.totalTokenCount).toBe(usage.promptTokenCount! + usage.candidatesTokenCount!);
    expect(SCRIPTED_SHAPES.vote.parse(JSON.parse(response.text!))).toMatchObject({
      disagreementId: "D2",
      choice: "frontend",
    });
  });

  test("serves v1beta too, and an OpenAPI-style responseSchema", async () => {
    const gemini = new GoogleGenAI({
      apiKey: sim.env().GEMINI_API_KEY,
      httpOptions: { baseUrl: sim.env().GEMINI_BASE_URL, apiVersion: "v1beta" },
    });
    const response = await gemini.models.generateContent({
      model: "gemini-2.5-pro",
      contents: "List two colours",
      config: {
        responseMimeType: "application/json",
        responseSchema: {
          title: "colours",
          type: Type.OBJECT,
          properties: {
            colours: { type: Type.ARRAY, items: { type: Type.STRING }, minItems: "2" },
            note: { type: Type.STRING, nullable: true },
          },
          required: ["colours", "note"],
        },
      },
    });
    expect(sim.requests()[0]?.path).toBe("/gemini/v1beta/models/gemini-2.5-pro:generateContent");
    expect(sim.requests()[0]?.schemaName).toBe("colours");
    const value = JSON.parse(response.text!) as { colours: unknown[]; note: unknown };
    expect(value.colours).toHaveLength(2);
    expect(typeof value.note).toBe("string");
  });

  test("takes the key from the key query parameter, and answers errors in Google's format", async () => {
    const url = `${sim.env().GEMINI_BASE_URL}/v1beta/models/gemini-2.5-pro:generateContent`;
    const body = JSON.stringify({ contents: [{ parts: [{ text: "hi" }] }] });
    const ok = await fetch(`${url}?key=sim-gemini-key`, { method: "POST", body });
    expect(ok.status).toBe(200);
    expect(sim.requests()[0]?.path).not.toContain("key");

    const wrong = await fetch(`${url}?key=nope`, { method: "POST", body });
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toMatchObject({
      error: { code: 401, status: "UNAUTHENTICATED", details: [{ reason: "API_KEY_INVALID" }] },
    });

    const invalid = await fetch(url, {
      method: "POST",
      headers: { "x-goog-api-key": "sim-gemini-key" },
      body: JSON.stringify({ contents: [] }),
    });
    expect(invalid.status).toBe(400);
    expect(await invalid.json()).toMatchObject({
      error: { code: 400, status: "INVALID_ARGUMENT", details: [] },
    });

    const streaming = await fetch(url.replace(":generateContent", ":streamGenerateContent"), {
      method: "POST",
      headers: { "x-goog-api-key": "sim-gemini-key" },
      body,
    });
    expect(streaming.status).toBe(404);
    expect(await streaming.json()).toMatchObject({ error: { status: "NOT_FOUND" } });
  });

  test("the SDK raises ApiError with the status and Google's error body", async () => {
    sim.injectFault({ provider: "gemini", kind: "server_error", status: 503 });
    const error = await caught(
      clientsFor(sim).gemini.models.generateContent({ model: "gemini-2.5-pro", contents: "x" }),
    );
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(503);
    expect(JSON.parse((error as ApiError).message)).toMatchObject({
      error: { code: 503, status: "UNAVAILABLE" },
    });
    // No retries without httpOptions.retryOptions: one request went over the wire.
    expect(sim.requests()).toHaveLength(1);
  });
});
