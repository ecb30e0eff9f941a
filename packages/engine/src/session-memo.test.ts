import { describe, expect, it } from "vitest";
import { SessionMemo } from "./session-memo.ts";

const workflow = { name: "w", description: "", roles: {}, phases: [] };

describe("SessionMemo", () => {
  it("remembers a load's workflow and only its succeeded phases' outputs", () => {
    const memo = new SessionMemo();
    memo.remember("s1", {
      workflow,
      phases: [
        { phase: "a", status: "succeeded", output: { x: 1 } },
        { phase: "b", status: "skipped", output: null },
        { phase: "c", status: "pending", output: null },
      ],
    });
    const known = memo.known("s1");
    expect(known?.workflow).toBe(workflow);
    expect([...(known?.outputs.keys() ?? [])]).toEqual(["a"]);
    memo.succeeded("s1", "c", { y: 2 });
    expect(memo.known("s1")?.outputs.get("c")).toEqual({ y: 2 });
  });

  it("forgets an ended session and knows nothing of one it never saw", () => {
    const memo = new SessionMemo();
    memo.succeeded("s1", "a", { x: 1 });
    memo.forget("s1");
    expect(memo.known("s1")).toBeUndefined();
    expect(memo.known("s2")).toBeUndefined();
  });

  it("holds at most its capacity, dropping the least recently used first", () => {
    const memo = new SessionMemo(2);
    memo.succeeded("s1", "a", {});
    memo.succeeded("s2", "a", {});
    memo.known("s1");
    memo.succeeded("s3", "a", {});
    expect(memo.size).toBe(2);
    expect(memo.known("s2")).toBeUndefined();
    expect(memo.known("s1")).toBeDefined();
    expect(memo.known("s3")).toBeDefined();
  });
});
