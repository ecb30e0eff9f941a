import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../../test/support/db.ts";
import { deleteKeysWithPrefix, noRedis, redisUrl, uniquePrefix } from "../../../test/support/redis.ts";
import { chooseQueueBackend, QueueBackendError } from "./backend.ts";
import { openQueueConnection } from "./connection.ts";
import { QueueSet } from "./queue-set.ts";

describe("chooseQueueBackend", () => {
  const DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/foundry";
  const REDIS_URL = "redis://127.0.0.1:6379/2";

  it("takes Redis when REDIS_URL is set, PostgreSQL on DATABASE_URL otherwise, and QUEUE_BACKEND over both", () => {
    expect(chooseQueueBackend({ DATABASE_URL, REDIS_URL })).toEqual({
      kind: "redis",
      url: REDIS_URL,
      prefix: "foundry",
      cluster: false,
    });
    expect(chooseQueueBackend({ DATABASE_URL })).toEqual({ kind: "postgres", url: DATABASE_URL });
    expect(chooseQueueBackend({ DATABASE_URL, REDIS_URL, QUEUE_BACKEND: "postgres" })).toEqual({
      kind: "postgres",
      url: DATABASE_URL,
    });
    expect(
      chooseQueueBackend({
        DATABASE_URL,
        REDIS_URL: "redis://127.0.0.1:7000",
        REDIS_CLUSTER: "true",
        QUEUE_PREFIX: "{foundry}",
      }),
    ).toEqual({ kind: "redis", url: "redis://127.0.0.1:7000", prefix: "{foundry}", cluster: true });
  });

  it.each([
    [
      { DATABASE_URL, QUEUE_BACKEND: "rabbitmq" },
      'QUEUE_BACKEND: expected "redis" or "postgres", got "rabbitmq"',
    ],
    [{ DATABASE_URL, QUEUE_BACKEND: "redis" }, "QUEUE_BACKEND=redis needs REDIS_URL"],
    [{ QUEUE_BACKEND: "postgres" }, "QUEUE_BACKEND=postgres needs DATABASE_URL"],
    [{ DATABASE_URL, REDIS_URL, REDIS_CLUSTER: "true" }, "QUEUE_PREFIX: on Redis Cluster"],
    [
      { DATABASE_URL, REDIS_URL, REDIS_CLUSTER: "true", QUEUE_PREFIX: "{foundry}" },
      'REDIS_URL: Redis Cluster has only database 0, got "2"',
    ],
  ])("refuses %j, naming the variable", (env, message) => {
    expect(() => chooseQueueBackend(env)).toThrow(QueueBackendError);
    expect(() => chooseQueueBackend(env)).toThrow(message);
  });
});

const kinds = noRedis("the queues on Redis") ? (["postgres"] as const) : (["redis", "postgres"] as const);

describe.each(kinds)("queues on %s", (kind) => {
  let db: TestDatabase;
  let queues: QueueSet;
  const prefix = uniquePrefix();

  beforeAll(async () => {
    db = await createTestDatabase();
    const backend =
      kind === "redis" ? { kind, url: redisUrl(), prefix, cluster: false } : { kind, url: db.url };
    queues = new QueueSet(await openQueueConnection(backend, { role: "producer" }));
  });
  afterAll(async () => {
    await queues.close();
    if (kind === "redis") await deleteKeysWithPrefix(prefix);
    await db.drop();
  });

  it("answers pings and counts jobs by state", async () => {
    await queues.ping();
    await queues.get("orchestrator").add("phase", { n: 1 }, { delay: 60_000 });
    const depths = await queues.depths();
    expect(depths.map((depth) => depth.name)).toEqual(["orchestrator", "openai", "anthropic", "gemini"]);
    expect(depths[0]).toMatchObject({ waiting: 0, delayed: 1 });
  });

  it("adds jobs with the catalog's retry policy and, on PostgreSQL, a retention by age only", async () => {
    const options = queues.jobOptions("modelCall");
    expect(options).toMatchObject({ attempts: 5, failParentOnFailure: true });
    expect(queues.jobOptions("phase")).toMatchObject({ attempts: 3, failParentOnFailure: true });
    // A count on PostgreSQL would read every kept job of the queue at each completion.
    const cap = kind === "redis" ? { count: 50_000 } : {};
    for (const jobKind of ["phase", "modelCall"] as const) {
      expect(queues.jobOptions(jobKind).removeOnComplete).toEqual({ age: 24 * 3600, ...cap });
      expect(queues.jobOptions(jobKind).removeOnFail).toEqual({ age: 7 * 24 * 3600, ...cap });
    }
    const queue = queues.provider("openai");
    const job = await queue.add("call", { n: 1 }, { ...options, delay: 60_000 });
    const stored = await queue.getJob(job.id as string);
    expect(stored?.opts).toMatchObject({
      attempts: 5,
      removeOnComplete: options.removeOnComplete,
      removeOnFail: options.removeOnFail,
    });
  });

  it.skipIf(kind === "redis")(
    "caps the finished jobs per queue, earliest first, past a grace period",
    async () => {
      const queue = queues.get("gemini");
      const worker = queues.worker(
        "gemini",
        async (job) => {
          if (job.data.fail) throw new Error("failed on purpose");
          return "done";
        },
        { concurrency: 1 },
      );
      try {
        const ids: string[] = [];
        for (let index = 0; index < 6; index++) {
          const job = await queue.add("call", { index, fail: index >= 4 }, { attempts: 1 });
          ids.push(job.id as string);
        }
        await expect
          .poll(async () => queue.getJobCounts("completed", "failed"), { timeout: 15_000 })
          .toEqual({ completed: 4, failed: 2 });
        // Within the grace period (two hours by default) nothing goes.
        expect(await queues.capFinishedJobs(1)).toBe(0);
        expect(await queue.getJobCounts("completed", "failed")).toEqual({ completed: 4, failed: 2 });
        // In rounds of 2 (of 10,000 in production): 3 completed go in two rounds.
        expect(await queues.capFinishedJobs(1, { graceMs: 0, batch: 2 })).toBe(4);
        expect(await queue.getJobCounts("completed", "failed")).toEqual({ completed: 1, failed: 1 });
        // The last added of each is kept.
        expect((await queue.getJobs(["completed"])).map((job) => job.id)).toEqual([ids[3]]);
        expect((await queue.getJobs(["failed"])).map((job) => job.id)).toEqual([ids[5]]);
        expect(await queues.capFinishedJobs(1, { graceMs: 0 })).toBe(0);
      } finally {
        await worker.close();
      }
    },
  );

  it("pauses a provider's queue for at least the requested time and never shortens a longer pause", async () => {
    expect(await queues.pauseProvider("anthropic", 5_000)).toBe(5_000);
    const remaining = await queues.pauseProvider("anthropic", 1_000);
    expect(remaining).toBeGreaterThan(4_000);
    expect(await queues.provider("anthropic").getRateLimitTtl()).toBeGreaterThan(4_000);
    expect(await queues.pauseProvider("anthropic", 9_000)).toBe(9_000);
    expect(await queues.provider("anthropic").getRateLimitTtl()).toBeGreaterThan(8_000);
    // Another provider is not paused.
    expect(await queues.provider("openai").getRateLimitTtl()).toBeLessThanOrEqual(0);
  });

  it("pauses a queue whose limiter holds only BullMQ's window counter, whatever its remaining time", async () => {
    const queue = queues.provider("gemini");
    // BullMQ's own limiter: 3 jobs started in a window with 900 ms left, below its max of 10.
    const { redis, pool } = queues.connection;
    if (redis) await redis.set(queue.keys.limiter as string, "3", "PX", 900);
    else
      await pool?.query("INSERT INTO rate_limit (queue, points, expire_at_ms) VALUES ($1, 3, $2)", [
        queue.name,
        Date.now() + 900,
      ]);
    expect(await queues.pauseProvider("gemini", 500)).toBe(500);
    expect(await queue.getRateLimitTtl(10)).toBeGreaterThan(0);
  });
});
