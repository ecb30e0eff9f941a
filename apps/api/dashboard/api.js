// The REST API as the page uses it: same-origin requests with the login cookie. A 401 means the
// sign-in ended: the browser goes back to the login page.

/** An answer that was not 2xx, with the API's `{ error: { code, message } }`. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
  }
}

/** Sends a request to the API; returns the parsed JSON (or null for 204). */
export async function api(path, { method = "GET", body } = {}) {
  const response = await fetch(path, {
    method,
    headers: {
      accept: "application/json",
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "same-origin",
    // Revalidate with the ETag the API sends (GET /api/sessions/:id answers 304 when unchanged).
    cache: "no-cache",
  });
  if (response.status === 401) {
    signInAgain();
    throw new ApiError(401, "UNAUTHORIZED", "signed out");
  }
  if (response.status === 204) return null;
  const text = await response.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    // not JSON: reported below
  }
  if (!response.ok) {
    const error = json?.error;
    throw new ApiError(
      response.status,
      error?.code ?? "HTTP_ERROR",
      error?.message ?? `HTTP ${response.status}`,
    );
  }
  return json;
}

/** A generated file's text. */
export async function fileText(sessionId, path) {
  const encoded = path.split("/").map(encodeURIComponent).join("/");
  const response = await fetch(`/api/sessions/${sessionId}/files/${encoded}`, { credentials: "same-origin" });
  if (response.status === 401) signInAgain();
  if (!response.ok)
    throw new ApiError(response.status, "HTTP_ERROR", `the file could not be read (HTTP ${response.status})`);
  return response.text();
}

function signInAgain() {
  const next = `${location.pathname}${location.search}`;
  location.assign(`/login?next=${encodeURIComponent(next)}`);
}

/**
 * Follows an event stream with the browser's EventSource, which reconnects by itself and sends
 * Last-Event-ID so nothing is lost. Calls `onEvent(event)` per SessionEvent, `onEnd(data)` on the
 * session stream's `end` message (then closes), `onState("live" | "reconnecting")`.
 * Returns a function that closes the stream.
 */
export function follow(url, { onEvent, onEnd, onState }) {
  const source = new EventSource(url, { withCredentials: true });
  source.onopen = () => onState?.("live");
  source.onerror = () => onState?.(source.readyState === EventSource.CLOSED ? "closed" : "reconnecting");
  source.onmessage = (message) => {
    try {
      onEvent?.(JSON.parse(message.data));
    } catch (error) {
      console.error("a stream message could not be read", error);
    }
  };
  source.addEventListener("end", (message) => {
    source.close();
    onState?.("ended");
    onEnd?.(JSON.parse(message.data));
  });
  return () => source.close();
}
