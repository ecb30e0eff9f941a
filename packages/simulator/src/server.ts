import { Hono } from "hono";
import { adminRoutes } from "./admin.ts";
import { anthropicProtocol } from "./anthropic.ts";
import { geminiProtocol } from "./gemini.ts";
import { openaiModelList, openaiProtocol } from "./openai.ts";
import { serveCall, serveOther } from "./pipeline.ts";
import type { SimState } from "./state.ts";

// `/{version}/models/{model}:{action}`, as @google/genai builds it from httpOptions.baseUrl.
const GEMINI_PATH = /^\/gemini\/(v1|v1beta|v1alpha)\/models\/([^/:]+):([A-Za-z]+)$/;

/**
 * The simulator's HTTP app: one base URL per provider (`/openai/v1`, `/anthropic`, `/gemini`) and
 * the control API under `/_sim`. Every route under a provider's prefix answers in that provider's
 * format, unknown ones included.
 */
export function createApp(state: SimState): Hono {
  const app = new Hono();

  app.route("/_sim", adminRoutes(state));

  app.post("/openai/v1/chat/completions", (c) => serveCall(state, openaiProtocol, c.req.raw));
  app.get("/openai/v1/models", (c) =>
    serveOther(state, openaiProtocol, c.req.raw, { payload: openaiModelList(), checkKey: true }),
  );
  app.all("/openai/*", (c) => serveOther(state, openaiProtocol, c.req.raw, "not_found"));

  app.post("/anthropic/v1/messages", (c) => serveCall(state, anthropicProtocol, c.req.raw));
  app.all("/anthropic/*", (c) => serveOther(state, anthropicProtocol, c.req.raw, "not_found"));

  app.all("/gemini/*", (c) => {
    const match = GEMINI_PATH.exec(decodeURIComponent(new URL(c.req.url).pathname));
    if (c.req.method === "POST" && match?.[3] === "generateContent") {
      return serveCall(state, geminiProtocol, c.req.raw, match[2]!);
    }
    return serveOther(state, geminiProtocol, c.req.raw, "not_found");
  });

  app.notFound((c) =>
    c.json({ error: { message: `No simulator route for ${c.req.method} ${c.req.path}` } }, 404),
  );
  app.onError((error, c) => {
    state.log("warn", `error: ${error.stack ?? error.message}`);
    return c.json({ error: { message: "Internal simulator error" } }, 500);
  });

  return app;
}
