import { randomUUID } from "node:crypto";
import { chooseQueueBackend, openQueueConnection, QueueBackendError, QueueSet } from "@foundry/queue";
import type { Cluster } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RedisCluster, redisClusterBinaries, startRedisCluster } from "./support/redis-cluster.ts";
import { type Stack, startStack } from "./support/stack.ts";

// The queues on a 3-master Redis Cluster started here from redis-server: sessions run through the
// whole workflow, and a hash-tagged QUEUE_PREFIX keeps BullMQ's keys and the limiter's (whose Lua
// scripts take several keys at once) in one slot, so no script meets a CROSSSLOT error.
const binaries = redisClusterBinaries();
if (!binaries) {
  console.warn(
    "redis-cluster.test.ts skipped: no redis-server (with redis-cli next to it) on PATH or in the usual directories",
  );
}

describe.skipIf(!binaries)("queues on a 3-master Redis Cluster", () => {
  const prefix = `{foundry-${randomUUID().slice(0, 8)}}`;
  const SESSIONS = 2;
  let cluster: RedisCluster;
  let stack: Stack;

  beforeAll(async () => {
    cluster = await startRedisCluster(binaries as NonNullable<typeof binaries>);
    const backend = chooseQueueBackend({
      REDIS_URL: cluster.url,
      REDIS_CLUSTER: "true",
      QUEUE_PREFIX: prefix,
    });
    stack = await startStack({
      queueBackend: backend,
      // A limit on one provider, so that its calls go through the sliding-window Lua script.
      limits: { anthropic: { max: 100, windowMs: 60_000 } },
    });
  }, 120_000);
  afterAll(async () => {
    await stack?.close();
    await cluster?.stop();
  });

  it("runs sessions through the workflow to succeeded, admitting each Anthropic call through the limiter", async () => {
    const started = performance.now();
    const ids = await Promise.all(
      Array.from({ length: SESSIONS }, (_, i) => stack.submit(`Build a todo list app, variant ${i + 1}`)),
    );
    const sessions = await Promise.all(ids.map((id) => stack.waitForSession(id, 90_000)));
    const ms = Math.round(performance.now() - started);
    expect(sessions.map((session) => session.status)).toEqual(ids.map(() => "succeeded"));

    const redis = stack.queues.connection.redis as Cluster;
    const anthropic = stack.sim.requests({ provider: "anthropic" });
    expect(anthropic.length).toBeGreaterThan(0);
    // Every Anthropic request was admitted (and recorded) by the Lua limiter on the cluster.
    expect(await redis.zcard(`${prefix}:limit:anthropic`)).toBe(anthropic.length);
    const calls = sessions.reduce((sum, session) => sum + session.calls.length, 0);
    console.log(
      `redis cluster (${cluster.ports.length} masters, ports ${cluster.ports.join(", ")}, prefix ${prefix}): ` +
        `${SESSIONS} sessions succeeded in ${ms} ms, ${calls} model calls, ${anthropic.length} through the anthropic limiter`,
    );
  });

  it("keeps every key under the prefix, BullMQ's and the limiter's, in one hash slot on one master", async () => {
    const redis = stack.queues.connection.redis as Cluster;
    const masters = redis.nodes("master");
    expect(masters).toHaveLength(3);
    const pattern = `${prefix.replace(/[*?[\]\\]/g, "\\$&")}*`;
    const slotsByNode = new Map<string, Set<number>>();
    const keys: string[] = [];
    for (const node of masters) {
      const found: string[] = [];
      let cursor = "0";
      do {
        const [next, batch] = await node.scan(cursor, "MATCH", pattern, "COUNT", 1000);
        cursor = next;
        found.push(...batch);
      } while (cursor !== "0");
      if (found.length === 0) continue;
      const slots = await Promise.all(
        found.map(async (key) => Number(await node.call("CLUSTER", "KEYSLOT", key))),
      );
      slotsByNode.set(`${node.options.host}:${node.options.port}`, new Set(slots));
      keys.push(...found);
    }
    // Both kinds are there: the limiter's sorted set and the queues' keys of every queue used.
    expect(keys).toContain(`${prefix}:limit:anthropic`);
    for (const queue of ["orchestrator", "openai", "anthropic", "gemini"]) {
      expect(keys.some((key) => key.startsWith(`${prefix}:${queue}:`))).toBe(true);
    }
    expect(slotsByNode.size).toBe(1);
    const [[node, slots]] = [...slotsByNode] as [[string, Set<number>]];
    expect([...slots]).toEqual([Number(await redis.call("CLUSTER", "KEYSLOT", prefix))]);
    console.log(`${keys.length} keys under ${prefix}, all in slot ${[...slots][0]} on ${node}`);
  });

  it("serves the API's producer connection: ping, depths and a cluster-wide pause", async () => {
    const producer = new QueueSet(
      await openQueueConnection(stack.queues.connection.backend, { role: "producer" }),
    );
    try {
      await producer.ping();
      const depths = await producer.depths();
      expect(depths.find((depth) => depth.name === "orchestrator")?.completed).toBeGreaterThan(0);
      expect(await producer.pauseProvider("gemini", 50)).toBeGreaterThanOrEqual(1);
    } finally {
      await producer.close();
    }
  });

  it("refuses a prefix without a hash tag on Redis Cluster", () => {
    expect(() =>
      chooseQueueBackend({ REDIS_URL: cluster.url, REDIS_CLUSTER: "true", QUEUE_PREFIX: "foundry" }),
    ).toThrow(QueueBackendError);
  });
});
