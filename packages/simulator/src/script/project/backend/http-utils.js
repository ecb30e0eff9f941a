const MAX_BODY_BYTES = 16 * 1024;

export function sendJson(res, status, body, headers = {}) {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(payload),
    ...headers,
  });
  res.end(payload);
}

export function sendError(res, status, message, headers = {}) {
  sendJson(res, status, { error: message }, headers);
}

export function sendNoContent(res) {
  res.writeHead(204);
  res.end();
}

/** Reads a JSON request body: `{ ok: true, value }` or `{ ok: false, status, error }`. */
export async function readJsonBody(req) {
  const type = req.headers["content-type"] ?? "";
  if (!type.toLowerCase().startsWith("application/json")) {
    return { ok: false, status: 415, error: "Content-Type must be application/json" };
  }
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) return { ok: false, status: 413, error: "Request body is too large" };
    chunks.push(chunk);
  }
  try {
    return { ok: true, value: JSON.parse(Buffer.concat(chunks).toString("utf8")) };
  } catch {
    return { ok: false, status: 400, error: "Request body is not valid JSON" };
  }
}
