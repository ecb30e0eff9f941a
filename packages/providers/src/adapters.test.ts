import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import {
  EMPTY_ANSWER_PLACEHOLDER,
  ESTIMATE_FRAMING_TOKENS,
  estimateTokens,
  type LanguageModel,
  ProviderError,
  type ProviderName,
  type ProviderSettings,
  repairFromError,
  repairInstruction,
  toWireJsonSchema,
} from "@foundry/llm";
import { type RecordedRequest, type Simulator, startSimulator } from "@foundry/simulator";
import { requirementsSchema, technicalPlanSchema, voteSchema } from "@foundry/workflow";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { z } from "zod";
import { providerSettingsFromEnv } from "./env.ts";
import { createModel } from "./factory.ts";
import { createOpenAIModel, jsonModeInstruction } from "./openai.ts";

// Each adapter on its real SDK against the provider simulator over HTTP: the simulator reads each
// wire protocol on its own, so these tests hold the adapters to an independent reading of it.

interface Case {
  provider: ProviderName;
  model: string;
  schemaName: string;
  schema: z.ZodType;
  /** The header that carries the key (the simulator records it as "[redacted]"). */
  keyHeader: string;
  /** Checks the provider-specific fields of the recorded request body. */
  checkWire(body: Record<string, unknown>, recorded: RecordedRequest): void;
}

const SYSTEM = "You are the project manager. Answer in the requested structure.";
const PROMPT = "Build a todo list web app with a REST backend.";

const cases: Case[] = [
  {
    provider: "openai",
    model: "gpt-4.1",
    schemaName: "requirements",
    schema: requirementsSchema,
    keyHeader: "authorization",
    checkWire(body, recorded) {
      expect(recorded.path).toBe("/openai/v1/chat/completions");
      expect(body.messages).toEqual([
        { role: "system", content: SYSTEM },
        { role: "user", content: PROMPT },
      ]);
      expect(body.response_format).toMatchObject({
        type: "json_schema",
        json_schema: {
          name: "requirements",
          strict: true,
          schema: { type: "object", additionalProperties: false },
        },
      });
      expect(body.max_completion_tokens).toBe(1234);
      expect(body).not.toHaveProperty("max_tokens");
      expect(body.temperature).toBe(0.2);
    },
  },
  {
    provider: "anthropic",
    model: "claude-sonnet-5-5",
    schemaName: "backend_plan",
    schema: technicalPlanSchema,
    // @anthropic-ai/sdk 1.x sends an API key as `Authorization: Bearer`, not `x-api-key`.
    keyHeader: "authorization",
    checkWire(body, recorded) {
      expect(recorded.path).toBe("/anthropic/v1/messages");
      expect(recorded.headers["anthropic-version"]).toBeTruthy();
      expect(body.system).toBe(SYSTEM);
      expect(body.messages).toEqual([{ role: "user", content: PROMPT }]);
      expect(body.tools).toEqual([
        expect.objectContaining({
          name: "backend_plan",
          description: expect.any(String),
          input_schema: expect.objectContaining({ type: "object", title: "backend_plan" }),
        }),
      ]);
      expect(body.tool_choice).toEqual({ type: "tool", name: "backend_plan" });
      expect(body.max_tokens).toBe(1234);
      expect(body.temperature).toBe(0.2);
    },
  },
  {
    provider: "gemini",
    model: "gemini-2.5-pro",
    schemaName: "frontend_plan",
    schema: technicalPlanSchema,
    keyHeader: "x-goog-api-key",
    checkWire(body, recorded) {
      expect(recorded.path).toBe("/gemini/v1beta/models/gemini-2.5-pro:generateContent");
      expect(body.systemInstruction).toMatchObject({ parts: [{ text: SYSTEM }] });
      expect(body.contents).toEqual([{ role: "user", parts: [{ text: PROMPT }] }]);
      expect(body.generationConfig).toMatchObject({
        responseMimeType: "application/json",
        responseJsonSchema: { title: "frontend_plan", type: "object" },
        maxOutputTokens: 1234,
        temperature: 0.2,
      });
    },
  },
];

let sim: Simulator;
let settings: Partial<Record<ProviderName, ProviderSettings>>;

beforeAll(async () => {
  sim = await startSimulator();
  settings = providerSettingsFromEnv(sim.env());
});

afterAll(async () => {
  await sim?.close();
});

beforeEach(() => {
  sim.clearFaults();
  sim.clearRequests();
  sim.configure({ limits: { openai: null, anthropic: null, gemini: null } });
});

/** The rejection of `promise`, which must be a ProviderError. */
async function failure(promise: Promise<unknown>): Promise<ProviderError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ProviderError);
  return error as ProviderError;
}

/** A loopback port that nothing listens on (just released by the OS). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function until(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe.each(cases)("$provider adapter", (c) => {
  const model = (): Promise<LanguageModel> => {
    const own = settings[c.provider];
    if (!own) throw new Error(`the simulator's env has no ${c.provider} settings`);
    return createModel(c.provider, own);
  };
  const call = async (overrides: Partial<Parameters<LanguageModel["generate"]>[0]> = {}) =>
    (await model()).generate({
      model: c.model,
      system: SYSTEM,
      prompt: PROMPT,
      schemaName: c.schemaName,
      schema: c.schema,
      ...overrides,
    });
  const recorded = () => sim.requests({ provider: c.provider });

  it("returns a validated value with usage, latency, model and request id", async () => {
    const result = await call();

    expect((await model()).provider).toBe(c.provider);
    expect(c.schema.safeParse(result.value).success).toBe(true);
    expect(result.value).toEqual(c.schema.parse(JSON.parse(result.text)));
    expect(result.usage.inputTokens).toBeGreaterThan(0);
    expect(result.usage.outputTokens).toBeGreaterThan(0);
    expect(result.latencyMs).toBeGreaterThan(0);
    expect(result.model).toBe(c.model);
    expect(result.requestId).toEqual(expect.any(String));
  });

  it("sends the schema name, model, system prompt, output limit and key the provider's way", async () => {
    await call({ maxOutputTokens: 1234, temperature: 0.2 });

    const requests = recorded();
    expect(requests).toHaveLength(1);
    const [request] = requests as [RecordedRequest];
    expect(request).toMatchObject({ method: "POST", model: c.model, schemaName: c.schemaName, status: 200 });
    // Present (the simulator redacts it), and accepted: the simulator answers 401 to a wrong key.
    expect(request.headers[c.keyHeader]).toBe("[redacted]");
    c.checkWire(request.body as Record<string, unknown>, request);
  });

  it("sends our request id as X-Foundry-Request-Id, and refuses one that is not a header value", async () => {
    await call({ requestId: "s1.planning.backend#2" });

    const [request] = recorded() as [RecordedRequest];
    expect(request.headers["x-foundry-request-id"]).toBe("s1.planning.backend#2");
    if (c.provider === "openai") expect(request.headers["x-client-request-id"]).toBe("s1.planning.backend#2");
    await expect(call({ requestId: "two\nlines" })).rejects.toThrow(/printable ASCII/);
    expect(recorded()).toHaveLength(1);
  });

  it("surfaces an injected 429 as rate_limited with the provider's retry-after", async () => {
    sim.injectFault({ provider: c.provider, kind: "rate_limit", retryAfterSeconds: 7 });

    const error = await failure(call());

    expect(error).toMatchObject({
      provider: c.provider,
      code: "rate_limited",
      status: 429,
      retryAfterMs: 7000,
    });
    expect(error.isRetryable).toBe(true);
    expect(recorded()).toHaveLength(1);
  });

  it("passes a retry-after of a day through as is: whether to wait is not the adapter's call", async () => {
    sim.injectFault({ provider: c.provider, kind: "rate_limit", retryAfterSeconds: 86_400 });

    const error = await failure(call());

    expect(error).toMatchObject({ code: "rate_limited", retryAfterMs: 86_400_000 });
  });

  it("reports a spent quota or credit balance as quota_exceeded, not retryable, naming the cause", async () => {
    sim.injectFault({ provider: c.provider, kind: "quota" });

    const error = await failure(call());

    expect(error).toMatchObject({
      provider: c.provider,
      code: "quota_exceeded",
      status: c.provider === "anthropic" ? 400 : 429,
    });
    expect(error.isRetryable).toBe(false);
    const cause = {
      openai: "(insufficient_quota; HTTP 429)",
      anthropic: "(credit balance too low; HTTP 400)",
      gemini: "(per-day quota GenerateRequestsPerDayPerProjectPerModel; HTTP 429 RESOURCE_EXHAUSTED)",
    }[c.provider];
    expect(error.message).toMatch(new RegExp(`^${c.provider} quota or billing limit reached `));
    expect(error.message).toContain(cause);
    expect(error.message).not.toContain(settings[c.provider]!.apiKey);
    expect(recorded()).toHaveLength(1);
  });

  it("surfaces the simulator's rate limit as rate_limited with a retry-after inside the window", async () => {
    sim.configure({ limits: { [c.provider]: { max: 1, windowMs: 60_000 } } });

    await call();
    const error = await failure(call());

    expect(error.code).toBe("rate_limited");
    expect(error.retryAfterMs).toBeGreaterThan(0);
    expect(error.retryAfterMs).toBeLessThanOrEqual(60_000);
    expect(recorded().map((r) => r.status)).toEqual([200, 429]);
  });

  it("reports output that is not JSON as malformed_output, keeping the text and usage", async () => {
    sim.injectFault({ provider: c.provider, kind: "malformed_json" });

    const error = await failure(call());

    expect(error.code).toBe("malformed_output");
    expect(error.isRetryable).toBe(true);
    expect(error.message).toContain(c.provider);
    // Anthropic's tool input always arrives as JSON; a malformed answer there is a missing tool call.
    if (c.provider !== "anthropic") expect(() => JSON.parse(error.text ?? "")).toThrow();
    expect(error.usage?.outputTokens).toBeGreaterThan(0);
  });

  it("reports JSON that breaks the schema as schema_violation, keeping the text and usage", async () => {
    sim.injectFault({ provider: c.provider, kind: "schema_violation" });

    const error = await failure(call());

    expect(error.code).toBe("schema_violation");
    expect(error.isRetryable).toBe(true);
    expect(c.schema.safeParse(JSON.parse(error.text ?? "")).success).toBe(false);
    expect(error.usage?.inputTokens).toBeGreaterThan(0);
    expect(error.usage?.outputTokens).toBeGreaterThan(0);
  });

  it.each(["malformed_json", "schema_violation"] as const)(
    "repairs a %s: the rejected answer and the error go back, and the corrected answer is valid",
    async (kind) => {
      sim.injectFault({ provider: c.provider, kind, times: 1 });
      const rejected = await failure(call());
      const repair = repairFromError(rejected);
      if (!repair) throw new Error(`${rejected.code} gave no repair input`);

      const result = await call({ repair });

      expect(c.schema.safeParse(result.value).success).toBe(true);
      const [, second] = recorded() as [RecordedRequest, RecordedRequest];
      expect(second.status).toBe(200);
      const instruction = repairInstruction(c.schemaName, repair);
      expect(instruction).toContain(rejected.message);
      const body = second.body as Record<string, unknown>;
      switch (c.provider) {
        case "openai":
          expect(body.messages).toEqual([
            { role: "system", content: SYSTEM },
            { role: "user", content: PROMPT },
            { role: "assistant", content: repair.previousText },
            { role: "user", content: instruction },
          ]);
          break;
        case "anthropic":
          // A rejected tool call is replayed and answered with an error result; text goes back as text.
          expect(body.messages).toEqual([
            { role: "user", content: PROMPT },
            ...(kind === "schema_violation"
              ? [
                  {
                    role: "assistant",
                    content: [
                      {
                        type: "tool_use",
                        id: expect.any(String),
                        name: c.schemaName,
                        input: JSON.parse(repair.previousText),
                      },
                    ],
                  },
                  {
                    role: "user",
                    content: [
                      {
                        type: "tool_result",
                        tool_use_id: expect.any(String),
                        is_error: true,
                        content: instruction,
                      },
                    ],
                  },
                ]
              : [
                  { role: "assistant", content: [{ type: "text", text: repair.previousText }] },
                  { role: "user", content: instruction },
                ]),
          ]);
          expect(body.tool_choice).toEqual({ type: "tool", name: c.schemaName });
          break;
        case "gemini":
          expect(body.contents).toEqual([
            { role: "user", parts: [{ text: PROMPT }] },
            { role: "model", parts: [{ text: repair.previousText }] },
            { role: "user", parts: [{ text: instruction }] },
          ]);
          break;
      }
    },
  );

  it("estimateTokens covers the input the provider counts, repair turns included", async () => {
    const request = {
      model: c.model,
      system: SYSTEM,
      prompt: PROMPT,
      schemaName: c.schemaName,
      schema: c.schema,
    };
    const repair = {
      previousText: JSON.stringify({ title: "x".repeat(6000) }),
      error: "title is too long ".repeat(50),
    };

    for (const sent of [request, { ...request, repair }, { ...request, system: undefined }]) {
      const { usage } = await (await model()).generate(sent);
      const estimate = estimateTokens(sent);

      expect(usage.inputTokens).toBeLessThanOrEqual(estimate.input);
      // Conservative, not wildly so: within the framing allowance and a few tokens.
      expect(estimate.input - usage.inputTokens).toBeLessThanOrEqual(ESTIMATE_FRAMING_TOKENS + 50);
      expect(estimate.maxOutput).toBe(8192);
    }
  });

  it("sends a placeholder for an empty rejected answer, which every API would refuse", async () => {
    const result = await call({ repair: { previousText: "  ", error: `${c.provider} returned no text` } });

    expect(c.schema.safeParse(result.value).success).toBe(true);
    expect(JSON.stringify(recorded()[0]?.body)).toContain(EMPTY_ANSWER_PLACEHOLDER);
  });

  it("reports a 500 as a retryable server_error after exactly one request (SDK retries off)", async () => {
    sim.injectFault({ provider: c.provider, kind: "server_error", status: 500, times: 3 });

    const error = await failure(call());

    expect(error).toMatchObject({ code: "server_error", status: 500 });
    expect(error.isRetryable).toBe(true);
    expect(recorded()).toHaveLength(1);
  });

  it("reports an overloaded provider as a retryable server_error", async () => {
    sim.injectFault({ provider: c.provider, kind: "overloaded" });

    const error = await failure(call());

    expect(error).toMatchObject({ code: "server_error", status: c.provider === "anthropic" ? 529 : 503 });
    expect(error.isRetryable).toBe(true);
    expect(recorded()).toHaveLength(1);
  });

  it("reports a rejected key as auth, not retryable, without the key in the error", async () => {
    const own = settings[c.provider];
    const wrongKey = `sk-wrong-${c.provider}-0123456789abcdefXYZ`;
    const wrong = await createModel(c.provider, { apiKey: wrongKey, baseURL: own?.baseURL });

    const error = await failure(
      wrong.generate({ model: c.model, prompt: PROMPT, schemaName: c.schemaName, schema: c.schema }),
    );

    expect(error).toMatchObject({ code: "auth", status: 401 });
    expect(error.isRetryable).toBe(false);
    expect(error.message).toContain(c.provider);
    expect(error.message).not.toContain(wrongKey);
    expect(JSON.stringify({ ...error, message: error.message })).not.toContain(wrongKey);
    expect(String((error.cause as Error | undefined)?.message ?? "")).not.toContain(wrongKey);
    expect(recorded()).toHaveLength(1);
  });

  it("aborts a hanging request when the caller's signal fires", async () => {
    sim.injectFault({ provider: c.provider, kind: "hang" });
    const controller = new AbortController();

    const pending = failure(call({ signal: controller.signal }));
    await until(() => recorded().length === 1);
    controller.abort();
    const error = await pending;

    expect(error.code).toBe("aborted");
    expect(error.isRetryable).toBe(false);
    expect(recorded()).toHaveLength(1);
  });

  it("rejects at once, without a request, when the signal is already aborted", async () => {
    const error = await failure(call({ signal: AbortSignal.abort() }));

    expect(error.code).toBe("aborted");
    expect(recorded()).toHaveLength(0);
  });

  it("times out a hanging request after timeoutMs, without retrying it", async () => {
    sim.injectFault({ provider: c.provider, kind: "hang", times: 3 });

    const error = await failure(call({ timeoutMs: 300 }));

    expect(error.code).toBe("timeout");
    expect(error.isRetryable).toBe(true);
    expect(error.message).toContain("300 ms");
    expect(recorded()).toHaveLength(1);
  });

  it("reports an unreachable server as network", async () => {
    const unreachable = await createModel(c.provider, {
      apiKey: "k",
      baseURL: `http://127.0.0.1:${await closedPort()}/x`,
    });

    const error = await failure(
      unreachable.generate({ model: c.model, prompt: PROMPT, schemaName: c.schemaName, schema: c.schema }),
    );

    expect(error.code).toBe("network");
    expect(error.isRetryable).toBe(true);
  });

  it("rejects a schema name the provider would refuse, without a request", async () => {
    const error = await failure(call({ schemaName: "not a name", schema: voteSchema }));

    expect(error.code).toBe("bad_request");
    expect(recorded()).toHaveLength(0);
  });
});

describe("anthropic billing errors", () => {
  it.each([402, 403])("a %i billing_error is quota_exceeded", async (status) => {
    sim.injectFault({ provider: "anthropic", kind: "quota", status });
    const model = await createModel("anthropic", settings.anthropic!);

    const error = await failure(
      model.generate({ model: "claude-sonnet-5-5", prompt: PROMPT, schemaName: "vote", schema: voteSchema }),
    );

    expect(error).toMatchObject({ code: "quota_exceeded", status });
    expect(error.message).toContain(`(billing_error; HTTP ${status})`);
    expect(error.isRetryable).toBe(false);
  });
});

describe("openai JSON mode (structuredOutputs: json_object)", () => {
  const jsonModel = () => createOpenAIModel({ ...settings.openai!, structuredOutputs: "json_object" });
  const generate = (overrides: Partial<Parameters<LanguageModel["generate"]>[0]> = {}) =>
    jsonModel().generate({
      model: "llama3.1",
      system: SYSTEM,
      prompt: PROMPT,
      schemaName: "requirements",
      schema: requirementsSchema,
      ...overrides,
    });

  it("sends json_object with the schema in the system prompt, and validates the answer", async () => {
    const result = await generate();

    expect(requirementsSchema.safeParse(result.value).success).toBe(true);
    const [request] = sim.requests({ provider: "openai" }) as [RecordedRequest];
    const body = request.body as Record<string, unknown>;
    expect(body.response_format).toEqual({ type: "json_object" });
    const schema = toWireJsonSchema("requirements", requirementsSchema);
    expect(body.messages).toEqual([
      { role: "system", content: `${SYSTEM}\n\n${jsonModeInstruction(schema)}` },
      { role: "user", content: PROMPT },
    ]);
    // The simulator read the schema (and its name) from the prompt, as a model would.
    expect(request.schemaName).toBe("requirements");
  });

  it("writes the schema as the whole system prompt when the request has none", async () => {
    await generate({ system: undefined });

    const [request] = sim.requests({ provider: "openai" }) as [RecordedRequest];
    expect((request.body as { messages: unknown[] }).messages[0]).toEqual({
      role: "system",
      content: jsonModeInstruction(toWireJsonSchema("requirements", requirementsSchema)),
    });
  });

  it("still rejects an answer that breaks the schema, and repairs it", async () => {
    sim.injectFault({ provider: "openai", kind: "schema_violation", times: 1 });

    const error = await failure(generate());
    expect(error.code).toBe("schema_violation");
    const result = await generate({ repair: repairFromError(error) });

    expect(requirementsSchema.safeParse(result.value).success).toBe(true);
    const [, second] = sim.requests({ provider: "openai" }) as [RecordedRequest, RecordedRequest];
    expect((second.body as { messages: { role: string }[] }).messages.map((m) => m.role)).toEqual([
      "system",
      "user",
      "assistant",
      "user",
    ]);
  });

  it("estimateTokens covers JSON mode's system prompt too", async () => {
    const request = {
      model: "llama3.1",
      prompt: PROMPT,
      schemaName: "requirements",
      schema: requirementsSchema,
    };
    const { usage } = await jsonModel().generate(request);

    expect(usage.inputTokens).toBeLessThanOrEqual(estimateTokens(request).input);
  });

  it("refuses an unknown mode when the model is created", () => {
    expect(() => createOpenAIModel({ apiKey: "k", structuredOutputs: "xml" as never })).toThrow(
      /structuredOutputs must be one of json_schema, json_object, got "xml"/,
    );
  });
});

describe("openai adapter options", () => {
  it("sends max_tokens for servers that read only that (Ollama), and the organization header", async () => {
    const own = settings.openai;
    if (!own) throw new Error("the simulator's env has no openai settings");
    const model = createOpenAIModel({ ...own, organization: "org-foundry", maxTokensField: "max_tokens" });

    const result = await model.generate({
      model: "llama3.1",
      prompt: PROMPT,
      schemaName: "vote",
      schema: voteSchema,
    });

    expect(voteSchema.safeParse(result.value).success).toBe(true);
    const [request] = sim.requests({ provider: "openai" }) as [RecordedRequest];
    expect(request.body).toMatchObject({ model: "llama3.1", max_tokens: 8192 });
    expect(request.body).not.toHaveProperty("max_completion_tokens");
    expect(request.body).toMatchObject({ messages: [{ role: "user", content: PROMPT }] });
    expect(request.headers["openai-organization"]).toBe("org-foundry");
  });
});
