import { describe, expect, test } from "vitest";
import { FaultBook } from "./faults.ts";
import { seededRandom } from "./random.ts";

describe("FaultBook", () => {
  test("a fault hits once by default, then is gone", () => {
    const book = new FaultBook(seededRandom(1));
    book.add({ kind: "server_error" });
    expect(book.take("openai", "vote")?.kind).toBe("server_error");
    expect(book.take("openai", "vote")).toBeNull();
    expect(book.list()).toEqual([]);
  });

  test("matches on provider and schema name; a named fault never hits an unnamed request", () => {
    const book = new FaultBook(seededRandom(1));
    book.add({ kind: "hang", provider: "gemini", schemaName: "vote", times: 5 });
    expect(book.take("openai", "vote")).toBeNull();
    expect(book.take("gemini", "requirements")).toBeNull();
    expect(book.take("gemini", null)).toBeNull();
    expect(book.take("gemini", "vote")?.kind).toBe("hang");
    expect(book.list()).toMatchObject([{ kind: "hang", times: 4 }]);
  });

  test("the first matching fault wins; null and Infinity times never run out", () => {
    const book = new FaultBook(seededRandom(1));
    book.add({ kind: "rate_limit", times: null });
    book.add({ kind: "server_error", times: Number.POSITIVE_INFINITY });
    for (let i = 0; i < 50; i++) expect(book.take("anthropic", null)?.kind).toBe("rate_limit");
    expect(book.list().map((f) => f.times)).toEqual([Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY]);
  });

  test("probability draws from the seeded generator: same seed, same hits", () => {
    const run = (seed: number) => {
      const book = new FaultBook(seededRandom(seed));
      book.add({ kind: "server_error", probability: 0.3, times: null });
      return Array.from({ length: 200 }, () => book.take("openai", null) !== null);
    };
    const first = run(7);
    expect(run(7)).toEqual(first);
    expect(run(8)).not.toEqual(first);
    const hits = first.filter(Boolean).length;
    expect(hits).toBeGreaterThan(30);
    expect(hits).toBeLessThan(90);
  });
});
