import type { z } from "zod";
import { createDocument, type ZodOpenApiOperationObject, type ZodOpenApiPathsObject } from "zod-openapi";
import { sessionEventSchema, streamEndSchema } from "./events.ts";
import type { RouteContract } from "./route.ts";
import { routes } from "./routes.ts";

export interface OpenApiOptions {
  /** `info.version`. @default "0.1.0" */
  version?: string;
  /** `servers[0].url`, when the API is behind a prefix or another host. */
  serverUrl?: string;
}

/** The generated document (a plain JSON object). */
export type OpenApiDocument = ReturnType<typeof createDocument>;

/**
 * The OpenAPI 3.1 document of the REST API, generated from the contract's routes and schemas.
 * Every named schema (`.meta({ id })`) is a component under `#/components/schemas/<id>`, so other
 * clients (the dashboard) can read `SessionView`, `SessionEvent`, … by a stable name.
 */
export function createOpenApiDocument(options: OpenApiOptions = {}): OpenApiDocument {
  const paths: ZodOpenApiPathsObject = {};
  for (const route of Object.values(routes) as RouteContract[]) {
    paths[route.path] = { ...paths[route.path], [route.method]: operation(route) };
  }
  return createDocument({
    openapi: "3.1.0",
    info: {
      title: "Foundry API",
      version: options.version ?? "0.1.0",
      description:
        "Turns a plain-language software request into a committed project. Every `/api` route needs " +
        "the API token (`Authorization: Bearer <API_TOKEN>`, or the browser login cookie set by " +
        "`POST /login`); bodies are JSON sent with `content-type: application/json`; errors are " +
        "`{ error: { code, message, details? } }`.",
    },
    ...(options.serverUrl && { servers: [{ url: options.serverUrl }] }),
    security: [{ bearer: [] }, { loginCookie: [] }],
    tags: [
      { name: "sessions", description: "Submit, inspect, cancel, retry and delete sessions." },
      { name: "events", description: "A session's event log, paged and live." },
      { name: "files", description: "What a session generated." },
      { name: "workflows", description: "Workflow definitions." },
      { name: "audit", description: "Who changed what, and how it went." },
      { name: "meta", description: "Health, metrics, this document and its reference page." },
    ],
    paths,
    components: {
      securitySchemes: {
        bearer: { type: "http", scheme: "bearer", description: "The API token (API_TOKEN)." },
        loginCookie: {
          type: "apiKey",
          in: "cookie",
          name: "foundry_login",
          description: "Set by `POST /login` for browsers.",
        },
      },
      // Named even where no route's JSON body refers to them: they are the streams' `data`.
      schemas: { SessionEvent: sessionEventSchema, StreamEnd: streamEndSchema },
    },
  });
}

function operation(route: RouteContract): ZodOpenApiOperationObject {
  return {
    operationId: route.operationId,
    summary: route.summary,
    ...(route.description && { description: route.description }),
    tags: [...route.tags],
    ...(route.auth === false && { security: [] }),
    requestParams: {
      ...(route.params && { path: route.params }),
      ...(route.query && { query: route.query }),
      ...(route.headers && { header: route.headers }),
    },
    ...(route.body && {
      requestBody: {
        required: route.optionalBody !== true,
        content: { "application/json": { schema: route.body } },
      },
    }),
    responses: Object.fromEntries(
      Object.entries(route.responses).map(([status, response]) => [
        status,
        {
          description: response.description,
          ...(response.headers && { headers: response.headers }),
          ...(response.content && {
            content: Object.fromEntries(
              Object.entries(response.content).map(([type, schema]) => [
                type,
                { schema: schema as z.ZodType },
              ]),
            ),
          }),
        },
      ]),
    ),
  };
}
