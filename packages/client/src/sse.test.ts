import { describe, expect, it } from "vitest";
import { readEventStream, type SseMessage } from "./sse.ts";

/** A body delivered in the given chunks. */
function body(...chunks: string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(encoder.encode(chunk));
      controller.close();
    },
  });
}

async function read(stream: ReadableStream<Uint8Array>, onRetry?: (ms: number) => void) {
  const out: SseMessage[] = [];
  for await (const message of readEventStream(stream, { onRetry })) out.push(message);
  return out;
}

describe("readEventStream", () => {
  it("parses ids, named events, multi-line data and skips comments", async () => {
    const retries: number[] = [];
    const messages = await read(
      body('retry: 2000\n\n: keep-alive\n\nid: 7\ndata: {"a":1}\n\n', "event: end\ndata: one\ndata: two\n\n"),
      (ms) => retries.push(ms),
    );
    expect(retries).toEqual([2000]);
    expect(messages).toEqual([
      { event: "message", data: '{"a":1}', id: "7" },
      { event: "end", data: "one\ntwo", id: undefined },
    ]);
  });

  it("reassembles messages split anywhere across chunks, with \\r\\n, \\r or \\n line ends", async () => {
    const text = "id: 1\r\ndata: x\r\n\r\nid: 2\rdata: y\r\rid: 3\ndata: z\n\n";
    const expected = [
      { event: "message", data: "x", id: "1" },
      { event: "message", data: "y", id: "2" },
      { event: "message", data: "z", id: "3" },
    ];
    for (let cut = 1; cut < text.length; cut++) {
      expect(await read(body(text.slice(0, cut), text.slice(cut))), `cut at ${cut}`).toEqual(expected);
    }
  });

  it("drops an unfinished last message (the connection broke mid-way)", async () => {
    expect(await read(body("id: 1\ndata: done\n\nid: 2\ndata: half"))).toEqual([
      { event: "message", data: "done", id: "1" },
    ]);
  });
});
