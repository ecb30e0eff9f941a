import { setTimeout as sleep } from "node:timers/promises";
import type { RecordedRequest } from "@foundry/simulator";
import type { Stack } from "./stack.ts";

/** Polls `condition` every 25 ms until it holds; throws `what` after `timeoutMs`. */
export async function until(
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(25);
  }
}

/** The requests the simulator received for one journaled call (by the `x-foundry-request-id` header). */
export function requestsFor(stack: Stack, idempotencyKey: string): RecordedRequest[] {
  return stack.sim
    .requests()
    .filter((request) => request.headers["x-foundry-request-id"]?.startsWith(`${idempotencyKey}#`));
}

/** Resolves once a request for the call is in flight at the simulator (received, not answered). */
export async function callInFlight(stack: Stack, idempotencyKey: string, timeoutMs = 30_000): Promise<void> {
  await until(
    () => requestsFor(stack, idempotencyKey).some((request) => request.status === 0),
    `a request for ${idempotencyKey} in flight`,
    timeoutMs,
  );
}

/** The types of a session's events, oldest first. */
export async function eventTypes(stack: Stack, sessionId: string): Promise<string[]> {
  const events = await stack.db.prisma.sessionEvent.findMany({
    where: { sessionId },
    orderBy: { id: "asc" },
    select: { type: true },
  });
  return events.map((event) => event.type);
}
