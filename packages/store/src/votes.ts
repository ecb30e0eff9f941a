import type { Db } from "./events.ts";

/** One vote cast in a vote phase, as `votes` stores it (the session's id aside). */
export interface NewVote {
  disagreementId: string;
  topic: string;
  voter: string;
  provider: string;
  model: string;
  choice: "backend" | "frontend";
  rationale: string;
}

/** Stores a phase's votes (idempotent: a re-run of the phase writes nothing new). */
export async function storeVotes(db: Db, sessionId: string, votes: readonly NewVote[]): Promise<void> {
  await db.vote.createMany({ skipDuplicates: true, data: votes.map((vote) => ({ sessionId, ...vote })) });
}
