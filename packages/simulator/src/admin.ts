import { Hono } from "hono";
import {
  PROVIDERS,
  parseConfigPatch,
  parseFaultSpec,
  parseStatsOptions,
  SimulatorConfigError,
} from "./options.ts";
import type { SimState } from "./state.ts";
import type { RequestFilter, SimProvider } from "./types.ts";

/**
 * The control API under /_sim, for tests and benchmarks in other processes:
 * - `GET /health` → `{ status: "ok" }`
 * - `GET /requests[?provider=&schemaName=&requestId=]` → `{ requests: RecordedRequest[] }`; `DELETE /requests`
 * - `GET /stats[?windowMs=]` → SimStats over every request since start-up or `DELETE /stats`
 * - `GET /faults` → `{ faults }`; `POST /faults` (a FaultSpec; `times: null` = unlimited) → 201; `DELETE /faults`
 * - `GET /config`; `PATCH /config` with `{ latencyMs?, limits?, tpm?, scenario? }` → the new config
 * Bad input answers 400 `{ error: { message } }` naming the field.
 */
export function adminRoutes(state: SimState): Hono {
  const admin = new Hono();

  admin.onError((error, c) => {
    if (error instanceof SimulatorConfigError) return c.json({ error: { message: error.message } }, 400);
    if (error instanceof SyntaxError)
      return c.json({ error: { message: "The request body is not valid JSON" } }, 400);
    state.log("warn", `admin error: ${error.message}`);
    return c.json({ error: { message: "Internal simulator error" } }, 500);
  });

  admin.get("/health", (c) => c.json({ status: "ok" }));

  admin.get("/requests", (c) => {
    const filter: RequestFilter = {};
    const provider = c.req.query("provider");
    const schemaName = c.req.query("schemaName");
    const requestId = c.req.query("requestId");
    if (provider !== undefined) {
      if (!isProvider(provider)) {
        return c.json({ error: { message: `provider must be one of ${PROVIDERS.join(", ")}` } }, 400);
      }
      filter.provider = provider;
    }
    if (schemaName !== undefined) filter.schemaName = schemaName;
    if (requestId !== undefined) filter.requestId = requestId;
    return c.json({ requests: state.recorder.list(filter) });
  });

  admin.delete("/requests", (c) => {
    state.recorder.clear();
    return c.body(null, 204);
  });

  admin.get("/stats", (c) => {
    const windowMs = c.req.query("windowMs");
    const options = parseStatsOptions(windowMs === undefined ? {} : { windowMs: Number(windowMs) });
    return c.json(state.statsSnapshot(options.windowMs));
  });

  admin.delete("/stats", (c) => {
    state.stats.reset();
    return c.body(null, 204);
  });

  admin.get("/faults", (c) => c.json({ faults: state.faults.list() }));

  admin.post("/faults", async (c) => {
    const fault = parseFaultSpec(await c.req.json());
    state.faults.add(fault);
    return c.json({ fault }, 201);
  });

  admin.delete("/faults", (c) => {
    state.faults.clear();
    return c.body(null, 204);
  });

  admin.get("/config", (c) => c.json(state.snapshot()));

  admin.patch("/config", async (c) => {
    state.configure(parseConfigPatch(await c.req.json()));
    return c.json(state.snapshot());
  });

  return admin;
}

function isProvider(value: string): value is SimProvider {
  return (PROVIDERS as readonly string[]).includes(value);
}
