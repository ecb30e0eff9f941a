import { silentLogger } from "@foundry/engine";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { IdleTrim, type MemoryTrim, memoryReducingGc } from "./idle-trim.ts";

describe("IdleTrim", () => {
  let trim: IdleTrim | undefined;
  // The clock is Vitest's: each step below is exact, however busy the machine.
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance"] });
  });
  afterEach(() => {
    trim?.close();
    vi.useRealTimers();
  });
  const wait = (ms: number) => vi.advanceTimersByTime(ms);

  /** A trim whose collection is counted (the real one is tested below). */
  const counting = (afterMs: number) => {
    const seen: MemoryTrim[] = [];
    let collected = 0;
    trim = new IdleTrim({
      afterMs,
      log: silentLogger,
      collect: () => {
        collected += 1;
      },
      onTrim: (done) => seen.push(done),
    });
    return { trim, collected: () => collected, seen };
  };

  it("collects once the last job has ended and nothing ran for afterMs, and once per idle spell", () => {
    const { trim, collected, seen } = counting(60);
    trim.started();
    trim.started();
    trim.ended();
    wait(500);
    expect(collected()).toBe(0); // a job is still running
    trim.ended();
    wait(59);
    expect(collected()).toBe(0);
    wait(1);
    expect(collected()).toBe(1);
    expect(seen[0]?.rssBefore).toBeGreaterThan(0);
    expect(seen[0]?.rssAfter).toBeGreaterThan(0);
    wait(1_000);
    expect(collected()).toBe(1); // still idle: not again
    trim.started();
    trim.ended();
    wait(60);
    expect(collected()).toBe(2);
  });

  it("waits for a full idle spell after the last job, however many jobs ended meanwhile", () => {
    const { trim, collected } = counting(100);
    for (let job = 0; job < 6; job += 1) {
      trim.started();
      trim.ended();
      wait(40);
    }
    // The timer armed by the first job fired while jobs still came; it waited for the rest.
    expect(collected()).toBe(0);
    wait(59);
    expect(collected()).toBe(0);
    wait(1);
    expect(collected()).toBe(1);
  });

  it("collects nothing before any job ran, nor after close", () => {
    const { trim, collected } = counting(30);
    wait(100);
    expect(collected()).toBe(0);
    trim.started();
    trim.ended();
    trim.close();
    wait(100);
    expect(collected()).toBe(0);
  });

  it("keeps trimming after a collection that failed", () => {
    let calls = 0;
    trim = new IdleTrim({
      afterMs: 20,
      log: silentLogger,
      collect: () => {
        calls += 1;
        if (calls === 1) throw new Error("no");
      },
    });
    trim.started();
    trim.ended();
    wait(20);
    trim.started();
    trim.ended();
    wait(20);
    expect(calls).toBe(2);
  });
});

describe("memoryReducingGc", () => {
  it("gives back the memory a burst of garbage left resident, without exposing gc to this context", () => {
    const hadGc = typeof globalThis.gc === "function";
    const collect = memoryReducingGc();
    // About 100 MB of short-lived objects: the heap grows for them, and keeps what it grew.
    let kept: unknown[] = [];
    for (let round = 0; round < 20; round += 1) {
      kept = Array.from({ length: 100_000 }, (_, index) => ({ index, text: `row ${index}` }));
    }
    expect(kept.length).toBe(100_000);
    kept = [];
    const before = process.memoryUsage.rss();
    collect();
    const after = process.memoryUsage.rss();
    // A regular full collection frees the objects but keeps their pages: a few MB of RSS at most.
    expect(before - after).toBeGreaterThan(32 * 2 ** 20);
    expect(typeof globalThis.gc === "function").toBe(hadGc);
  });
});
