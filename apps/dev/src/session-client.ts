import { setTimeout as sleep } from "node:timers/promises";

// A small client of the REST API for the launchers: submit a session and follow its events.

export interface SessionEvent {
  id: string;
  type: string;
  phase: string | null;
  message: string;
  data: unknown;
  at: string;
}

export class ApiClient {
  readonly #url: string;
  readonly #token: string;

  constructor(url: string, token: string) {
    this.#url = url;
    this.#token = token;
  }

  async #call<T>(path: string, init: RequestInit = {}): Promise<T> {
    const response = await fetch(`${this.#url}${path}`, {
      ...init,
      headers: {
        authorization: `Bearer ${this.#token}`,
        "content-type": "application/json",
        ...init.headers,
      },
    });
    const body = (await response.json().catch(() => null)) as { error?: { message?: string } } | null;
    if (!response.ok)
      throw new Error(`${init.method ?? "GET"} ${path}: ${response.status} ${body?.error?.message ?? ""}`);
    return body as T;
  }

  submit(body: { request: string; workflow?: string; publish?: boolean }): Promise<{ id: string }> {
    return this.#call("/api/sessions", { method: "POST", body: JSON.stringify(body) });
  }

  session<T>(id: string): Promise<T> {
    return this.#call(`/api/sessions/${id}`);
  }

  /** Calls `onEvent` for each event in order until a session.succeeded/failed event arrives. */
  async follow(id: string, onEvent: (event: SessionEvent) => void, pollMs = 150): Promise<void> {
    let after = "0";
    for (;;) {
      const page = await this.#call<{ events: SessionEvent[]; last: string }>(
        `/api/sessions/${id}/events?after=${after}`,
      );
      for (const event of page.events) {
        onEvent(event);
        if (event.type === "session.succeeded" || event.type === "session.failed") return;
      }
      after = page.last;
      if (page.events.length === 0) await sleep(pollMs);
    }
  }
}
