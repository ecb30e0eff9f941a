import { describe, expect, it } from "vitest";
import { createOpenApiDocument } from "./openapi.ts";
import { routerPath } from "./route.ts";
import { routes } from "./routes.ts";
import { sessionViewSchema } from "./sessions.ts";

describe("the contract", () => {
  it("turns OpenAPI paths into the router's, greedy parameters included", () => {
    expect(routerPath(routes.getSession)).toBe("/api/sessions/:id");
    expect(routerPath(routes.getSessionFile)).toBe("/api/sessions/:id/files/:path{.+}");
    expect(routerPath(routes.listSessions)).toBe("/api/sessions");
  });

  it("documents each route once, with a unique operationId and its error answers", () => {
    const document = createOpenApiDocument();
    const operations = Object.values(document.paths ?? {}).flatMap((item) => Object.values(item ?? {}));
    const ids = operations.map((operation) => (operation as { operationId: string }).operationId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.sort()).toEqual(
      Object.values(routes)
        .map((route) => route.operationId)
        .sort(),
    );
    const getSession = document.paths?.["/api/sessions/{id}"]?.get;
    expect(Object.keys(getSession?.responses ?? {})).toEqual(["200", "304", "400", "401", "404"]);
  });

  it("names its schemas, so other clients can refer to them", () => {
    const schemas = createOpenApiDocument().components?.schemas ?? {};
    expect(schemas.SessionView).toMatchObject({ type: "object", additionalProperties: false });
    expect(schemas.SessionEvent).toBeDefined();
    expect(sessionViewSchema.meta()?.id).toBe("SessionView");
  });

  it("refuses an event id that is not a 64-bit decimal, without throwing", () => {
    const query = routes.streamAllEvents.query;
    expect(query.safeParse({ lastEventId: "42" }).success).toBe(true);
    for (const bad of ["x", "-1", "1.5", "9223372036854775808", "99999999999999999999"]) {
      expect(query.safeParse({ lastEventId: bad }).success, bad).toBe(false);
    }
  });
});
