// A reader of Server-Sent Events (the WHATWG "event stream" format) over a fetch body: the API's
// live streams, read where no EventSource exists (Node) or where headers must be set (a token).

/** One message of an event stream. */
export interface SseMessage {
  /** `message` unless the server named another (`end`). */
  event: string;
  data: string;
  /** The `id:` field of this message, if it had one. */
  id: string | undefined;
}

export interface ReadEventStreamOptions {
  /** Called for each chunk read (keep-alive comments included): the stream is alive. */
  onActivity?: () => void;
  /** Called with a `retry:` field: how long to wait before reconnecting, in milliseconds. */
  onRetry?: (ms: number) => void;
}

/** Yields the messages of an event stream as they arrive (comment lines are skipped). */
export async function* readEventStream(
  body: ReadableStream<Uint8Array>,
  options: ReadEventStreamOptions = {},
): AsyncGenerator<SseMessage> {
  const decoder = new TextDecoder();
  let buffer = "";
  let data: string[] = [];
  let event = "";
  let id: string | undefined;
  for await (const chunk of body) {
    options.onActivity?.();
    buffer += decoder.decode(chunk, { stream: true });
    let newline = buffer.search(/\r\n|\r|\n/);
    while (newline >= 0) {
      const line = buffer.slice(0, newline);
      // A lone "\r" at the end of a chunk may be the first half of "\r\n": wait for more.
      if (buffer[newline] === "\r" && newline === buffer.length - 1) break;
      buffer = buffer.slice(newline + (buffer.startsWith("\r\n", newline) ? 2 : 1));
      if (line === "") {
        if (data.length > 0 || event !== "") {
          yield { event: event || "message", data: data.join("\n"), id };
        }
        data = [];
        event = "";
        id = undefined;
      } else if (!line.startsWith(":")) {
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
        if (field === "data") data.push(value);
        else if (field === "event") event = value;
        else if (field === "id" && !value.includes("\0")) id = value;
        else if (field === "retry" && /^\d+$/.test(value)) options.onRetry?.(Number(value));
      }
      newline = buffer.search(/\r\n|\r|\n/);
    }
  }
}
