// What a finished job's retention costs on BullMQ's PostgreSQL backend as completed jobs pile up: the
// same empty jobs completed in rounds, kept by age and a count (as Redis keeps them) and by age only
// (as packages/queue's jobRetention keeps them on PostgreSQL). Each mode runs in a scratch database.
//
//   DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres npm run bench:retention [-- --rounds 8 --jobs 1000]
import { parseArgs } from "node:util";
import { COMPLETED_JOB_AGE_S, MAX_FINISHED_JOBS, openQueueConnection } from "@foundry/queue";
import type { JobsOptions } from "bullmq";
import { createScratchDatabase } from "./cluster.ts";

const { values } = parseArgs({
  options: { rounds: { type: "string", default: "8" }, jobs: { type: "string", default: "1000" } },
  strict: true,
});
const rounds = Number(values.rounds);
const jobs = Number(values.jobs);
if (!Number.isInteger(rounds) || rounds < 1 || !Number.isInteger(jobs) || jobs < 1) {
  console.error("usage: node bench/retention.ts [--rounds 8] [--jobs 1000] (positive integers)");
  process.exit(2);
}
/** A round whose jobs have not all completed by then fails the run (a job failed, say). */
const ROUND_TIMEOUT_MS = 120_000;
const serverUrl = process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";

const MODES: ReadonlyArray<{ name: string; removeOnComplete: JobsOptions["removeOnComplete"] }> = [
  {
    name: "age and count",
    removeOnComplete: { age: COMPLETED_JOB_AGE_S, count: MAX_FINISHED_JOBS },
  },
  { name: "age only", removeOnComplete: { age: COMPLETED_JOB_AGE_S } },
];

/** Milliseconds per completion in each round, with `removeOnComplete`, in a database of its own. */
async function run(removeOnComplete: JobsOptions["removeOnComplete"]): Promise<number[]> {
  const database = await createScratchDatabase(serverUrl);
  const connection = await openQueueConnection({ kind: "postgres", url: database.url }, { role: "worker" });
  const queue = connection.queue("retention");
  let completed = 0;
  let roundDone = () => {};
  const worker = connection.worker("retention", async () => "done", { concurrency: 8 });
  worker.on("completed", () => {
    completed += 1;
    if (completed % jobs === 0) roundDone();
  });
  const perJob: number[] = [];
  try {
    for (let round = 0; round < rounds; round++) {
      const finished = new Promise<void>((resolve) => {
        roundDone = resolve;
      });
      await queue.addBulk(
        Array.from({ length: jobs }, (_, index) => ({
          name: "job",
          data: { index },
          opts: { removeOnComplete },
        })),
      );
      const started = process.hrtime.bigint();
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(new Error(`round ${round}: ${jobs} jobs not completed in ${ROUND_TIMEOUT_MS / 1000} s`)),
          ROUND_TIMEOUT_MS,
        );
      });
      await Promise.race([finished, timedOut]).finally(() => clearTimeout(timer));
      perJob.push(Number(process.hrtime.bigint() - started) / 1e6 / jobs);
    }
  } finally {
    await worker.close();
    await queue.close();
    await connection.close();
    await database.drop();
  }
  return perJob;
}

const lines: string[] = [
  `| completed jobs kept before the round | ${MODES.map((mode) => `${mode.name}, ms per job`).join(" | ")} |`,
  `| --- | ${MODES.map(() => "---").join(" | ")} |`,
];
const results: number[][] = [];
for (const mode of MODES) {
  console.error(`retention: ${mode.name}, ${rounds} rounds of ${jobs} jobs`);
  results.push(await run(mode.removeOnComplete));
}
for (let round = 0; round < rounds; round++) {
  lines.push(
    `| ${round * jobs} | ${results.map((perJob) => (perJob[round] as number).toFixed(2)).join(" | ")} |`,
  );
}
console.log(lines.join("\n"));
const last = (perJob: number[]) => (perJob.at(-1) as number).toFixed(2);
console.log(
  `retention: ${(rounds - 1) * jobs} kept, age and count ${last(results[0] as number[])} ms/job, age only ${last(results[1] as number[])} ms/job`,
);
