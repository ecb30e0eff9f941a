// A loopback pass-through in front of the simulator that can answer OpenAI requests the way OpenAI
// answers an account whose quota is used up: 429 with `insufficient_quota` and no retry-after. The
// simulator has rate-limit 429s but no quota 429 (see the report: a `quota` fault kind there would
// replace this file). Requests it answers itself are recorded like the simulator's, so the
// scenario's request counts include them.
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { RecordedRequest } from "@foundry/simulator";

export interface QuotaProxy {
  /** `http://127.0.0.1:<port>`; paths are the simulator's (`/openai/v1/...`). */
  readonly url: string;
  /** While on, every OpenAI generation request gets the quota 429 instead of reaching the simulator. */
  setQuotaExhausted(on: boolean): void;
  /** The requests it answered itself (seq is negative: they never reached the simulator). */
  requests(): RecordedRequest[];
  clearRequests(): void;
  close(): Promise<void>;
}

const QUOTA_BODY = {
  error: {
    message:
      "You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.",
    type: "insufficient_quota",
    param: null,
    code: "insufficient_quota",
  },
};

/** Starts the proxy on a free loopback port, forwarding to `target` (the simulator's URL). */
export async function startQuotaProxy(target: string): Promise<QuotaProxy> {
  const upstream = new URL(target);
  let exhausted = false;
  let recorded: RecordedRequest[] = [];
  let seq = 0;

  const answerQuota = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString("utf8");
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {}
    const headers = Object.fromEntries(
      Object.entries(req.headers).map(([name, value]) => [
        name,
        name === "authorization" ? "[redacted]" : String(value),
      ]),
    );
    const receivedAt = Date.now();
    seq -= 1;
    recorded.push({
      seq,
      provider: "openai",
      method: req.method ?? "POST",
      path: (req.url ?? "").split("?")[0] ?? "",
      model: stringAt(body, ["model"]),
      schemaName: stringAt(body, ["response_format", "json_schema", "name"]),
      headers,
      body,
      status: 429,
      fault: "rate_limit",
      receivedAt,
      respondedAt: receivedAt,
    });
    res.writeHead(429, { "content-type": "application/json", "x-request-id": `req_quota_${-seq}` });
    res.end(JSON.stringify(QUOTA_BODY));
  };

  const forward = (req: IncomingMessage, res: ServerResponse) => {
    const out = httpRequest(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: upstream.host },
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    out.on("error", () => res.destroy());
    // The client gave up (timeout, abort): give up upstream too, as a direct connection would.
    res.on("close", () => out.destroy());
    req.pipe(out);
  };

  const server = createServer((req, res) => {
    const generation = req.method === "POST" && (req.url ?? "").startsWith("/openai/v1/chat/completions");
    if (exhausted && generation) {
      answerQuota(req, res).catch(() => res.destroy());
      return;
    }
    forward(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    setQuotaExhausted(on) {
      exhausted = on;
    },
    requests: () => recorded.map((entry) => structuredClone(entry)),
    clearRequests() {
      recorded = [];
    },
    close() {
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

function stringAt(value: unknown, path: string[]): string | null {
  let at = value;
  for (const key of path) {
    if (typeof at !== "object" || at === null) return null;
    at = (at as Record<string, unknown>)[key];
  }
  return typeof at === "string" ? at : null;
}
