import type { VotePhase } from "@foundry/workflow";
import { describe, expect, it } from "vitest";
import { buildContext, PhaseInputError, skipReason, voteItems } from "./plan.ts";

const phase: VotePhase = {
  id: "voting",
  title: "Voting",
  kind: "vote",
  needs: ["comparison"],
  skip_unless: "comparison.comparison.disagreements",
  voters: ["manager", "backend"],
  items: "comparison.comparison.disagreements",
  max_items: 3,
  schema: "vote",
  prompt: "{{ item }}",
};

const context = (disagreements: unknown) =>
  buildContext("req", [
    { phase: "comparison", status: "succeeded", output: { comparison: { disagreements } } },
  ]);

describe("vote items", () => {
  it("reads the items the phase votes on", () => {
    const items = voteItems(phase, context([{ id: "D1", topic: "paths" }, { id: "D2" }]));
    expect(items.map((item) => [item.id, item.topic])).toEqual([
      ["D1", "paths"],
      ["D2", ""],
    ]);
  });

  it("refuses duplicate ids, items without an id, and more items than max_items", () => {
    expect(() => voteItems(phase, context([{ id: "D1" }, { id: "D1" }]))).toThrow(
      new PhaseInputError(
        'comparison.comparison.disagreements lists the id "D1" twice; votes could not be told apart',
      ),
    );
    expect(() => voteItems(phase, context([{ topic: "x" }]))).toThrow(/\[0\] has no string "id"/);
    expect(() => voteItems(phase, context([{ id: "a" }, { id: "b" }, { id: "c" }, { id: "d" }]))).toThrow(
      "comparison.comparison.disagreements lists 4 items, more than this vote's max_items (3)",
    );
    expect(() => voteItems(phase, context("nope"))).toThrow(
      "comparison.comparison.disagreements is not a list",
    );
  });

  it("skips the phase when its list is empty or absent, saying why", () => {
    expect(skipReason(phase, context([]))).toBe("comparison.comparison.disagreements is empty");
    expect(skipReason(phase, buildContext("req", []))).toBe("comparison.comparison.disagreements is empty");
    expect(skipReason(phase, context([{ id: "D1" }]))).toBeNull();
  });
});
