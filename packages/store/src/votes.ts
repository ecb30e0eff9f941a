import { executeSql, Prisma } from "@foundry/db";
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

/**
 * Stores a phase's votes (idempotent: a re-run of the phase writes nothing new), in one fixed
 * statement whatever their number, the rows as one JSON parameter.
 */
export async function storeVotes(db: Db, sessionId: string, votes: readonly NewVote[]): Promise<void> {
  if (votes.length === 0) return;
  await executeSql(
    db,
    Prisma.sql`
    INSERT INTO votes (id, session_id, disagreement_id, topic, voter, provider, model, choice, rationale)
    SELECT gen_random_uuid(), ${sessionId}, x."disagreementId", x.topic, x.voter, x.provider, x.model, x.choice, x.rationale
    FROM jsonb_to_recordset(${JSON.stringify(votes)}::jsonb)
      AS x("disagreementId" text, topic text, voter text, provider text, model text, choice text, rationale text)
    ON CONFLICT (session_id, disagreement_id, voter) DO NOTHING`,
  );
}
