import { describe, expect, it } from "vitest";
import { FoundryError } from "./index.ts";

class QueueDownError extends FoundryError {
  constructor(message: string, cause?: unknown) {
    super(message, { code: "QUEUE_DOWN", isRetryable: true, cause });
  }
}

describe("FoundryError", () => {
  it("carries code, isRetryable and cause, and is named after its subclass", () => {
    const cause = new Error("connect ECONNREFUSED 127.0.0.1:6379");
    const error = new QueueDownError("the queue is down", cause);
    expect(error).toBeInstanceOf(QueueDownError);
    expect(error).toBeInstanceOf(FoundryError);
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({
      name: "QueueDownError",
      message: "the queue is down",
      code: "QUEUE_DOWN",
      isRetryable: true,
      cause,
    });
    expect(String(error)).toBe("QueueDownError: the queue is down");
  });

  it("has no cause unless one is given", () => {
    const error = new FoundryError("bad input", { code: "BAD_INPUT", isRetryable: false });
    expect(error.name).toBe("FoundryError");
    expect(error.isRetryable).toBe(false);
    expect("cause" in error).toBe(false);
  });
});
