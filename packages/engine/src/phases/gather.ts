import type { Prisma } from "@foundry/db";
import { FoundryError } from "@foundry/errors";
import type { AnsweredCall, NewVote } from "@foundry/store";
import {
  type GeneratePhase,
  type Resolution,
  resolutionSchema,
  type TallyRow,
  type VotePhase,
  voteSchema,
} from "@foundry/workflow";
import type { VoteItem } from "../plan.ts";

// Turning a phase's answered calls into the phase's result, which later phases' templates read.

export class GatherError extends FoundryError {
  override readonly name = "GatherError";

  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { code: "PHASE_RESULT_INCOMPLETE", isRetryable: false, ...options });
  }
}

/** `{ <task id>: <answer> }` */
export function gatherGenerate(
  phase: GeneratePhase,
  calls: readonly AnsweredCall[],
): Record<string, unknown> {
  const byKey = new Map(calls.map((call) => [call.callKey, call]));
  const output: Record<string, unknown> = {};
  for (const task of phase.tasks) {
    const call = byKey.get(task.id);
    if (!call) throw new GatherError(`phase ${phase.id}: task ${task.id} has no answer`);
    output[task.id] = call.response;
  }
  return output;
}

export type CastVote = NewVote;

/** `{ votes, tally }`; the item's own id (not the model's echo of it) identifies what was voted on. */
export function gatherVote(
  phase: VotePhase,
  items: readonly VoteItem[],
  calls: readonly AnsweredCall[],
): { votes: CastVote[]; tally: TallyRow[] } {
  const votes: CastVote[] = [];
  for (const item of items) {
    for (const voter of phase.voters) {
      const call = calls.find((candidate) => {
        const { meta } = candidate;
        return meta.item === item.id && meta.voter === voter;
      });
      if (!call) throw new GatherError(`phase ${phase.id}: no vote from ${voter} on ${item.id}`);
      const vote = voteSchema.parse(call.response);
      votes.push({
        disagreementId: item.id,
        topic: item.topic,
        voter,
        provider: call.provider,
        model: call.model,
        choice: vote.choice,
        rationale: vote.rationale,
      });
    }
  }
  const tally = items.map((item) => {
    const cast = votes.filter((vote) => vote.disagreementId === item.id);
    const backend = cast.filter((vote) => vote.choice === "backend").length;
    const frontend = cast.length - backend;
    const leader: TallyRow["leader"] =
      backend === frontend ? "tie" : backend > frontend ? "backend" : "frontend";
    return { disagreementId: item.id, topic: item.topic, backend, frontend, leader };
  });
  return { votes, tally };
}

/**
 * Where a resolution goes against a clear majority of the tally: the manager may, but it is
 * recorded so a person can see it.
 */
export function overriddenMajorities(
  resolution: unknown,
  tally: readonly TallyRow[],
): Prisma.InputJsonValue[] {
  const parsed = resolutionSchema.safeParse(resolution);
  if (!parsed.success) return [];
  const decisions: Resolution["decisions"] = parsed.data.decisions;
  return decisions.flatMap((decision) => {
    const row = tally.find((candidate) => candidate.disagreementId === decision.disagreementId);
    if (!row || row.leader === "tie" || row.leader === decision.outcome) return [];
    return [{ disagreementId: decision.disagreementId, majority: row.leader, outcome: decision.outcome }];
  });
}
