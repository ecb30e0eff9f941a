import { describe, expect, it } from "vitest";
import { throttleErrors } from "./connection-errors.ts";

describe("throttleErrors", () => {
  it("reports a message once, then once per interval with the repeats in between", () => {
    let now = 0;
    const reports: Array<[string, number]> = [];
    const onError = throttleErrors((error, repeats) => reports.push([error.message, repeats]), {
      intervalMs: 1_000,
      now: () => now,
    });
    onError(new Error("down"));
    for (let i = 0; i < 5; i++) onError(new Error("down"));
    onError(new Error("other"));
    expect(reports).toEqual([
      ["down", 0],
      ["other", 0],
    ]);
    now = 999;
    onError(new Error("down"));
    expect(reports).toHaveLength(2);
    now = 1_000;
    onError(new Error("down"));
    expect(reports.at(-1)).toEqual(["down", 6]);
    // A trouble that comes back long after: reported at once, with nothing in between.
    now = 60_000;
    onError(new Error("down"));
    expect(reports.at(-1)).toEqual(["down", 0]);
  });

  it("counts one error object once, however many emitters pass it on", () => {
    let now = 0;
    const reports: number[] = [];
    const onError = throttleErrors((_, repeats) => reports.push(repeats), { intervalMs: 10, now: () => now });
    const shared = new Error("terminating connection");
    for (let i = 0; i < 6; i++) onError(shared);
    onError(new Error("terminating connection"));
    now = 10;
    onError(new Error("terminating connection"));
    expect(reports).toEqual([0, 1]);
  });

  it("takes what is thrown as it comes, an Error or not", () => {
    const reports: string[] = [];
    const onError = throttleErrors((error) => reports.push(error.message));
    onError("plain text");
    expect(reports).toEqual(["plain text"]);
  });
});
