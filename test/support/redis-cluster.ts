// A throwaway Redis Cluster for tests: N masters from the local `redis-server` on loopback, no
// replicas, no persistence, in a temporary directory that stop() removes.
//
//   const binaries = redisClusterBinaries();          // null: no redis-server here (skip the test)
//   const cluster = await startRedisCluster(binaries);
//   ... REDIS_URL=cluster.url REDIS_CLUSTER=true QUEUE_PREFIX={foundry} ...
//   await cluster.stop();
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { findRedisServer } from "@foundry/devstack";
import { Redis } from "ioredis";

const run = promisify(execFile);

export interface RedisClusterBinaries {
  server: string;
  cli: string;
}

export interface RedisCluster {
  /** `redis://127.0.0.1:<port of the first master>`: any node leads a cluster client to all of them. */
  url: string;
  ports: number[];
  dir: string;
  /** Kills the servers and removes their directory. Safe to call more than once. */
  stop(): Promise<void>;
}

/** `redis-server` as devstack finds it and `redis-cli` next to it, or null when either is missing. */
export function redisClusterBinaries(): RedisClusterBinaries | null {
  const server = findRedisServer();
  if (!server) return null;
  const cli = join(dirname(server), "redis-cli");
  try {
    accessSync(cli, constants.X_OK);
  } catch {
    return null;
  }
  return { server, cli };
}

/**
 * Starts `masters` cluster-enabled servers on free loopback ports, joins them with
 * `redis-cli --cluster create` (the slots split evenly, no replicas) and waits until every node
 * reports `cluster_state:ok`.
 */
export async function startRedisCluster(
  binaries: RedisClusterBinaries,
  options: { masters?: number; timeoutMs?: number } = {},
): Promise<RedisCluster> {
  const masters = options.masters ?? 3;
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  const dir = await mkdtemp(join(tmpdir(), "foundry-redis-cluster-"));
  const servers: { port: number; child: ChildProcess; output: () => string }[] = [];
  // A test process that dies without stop() must not leave servers behind.
  const killAll = () => {
    for (const { child } of servers)
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  };
  process.once("exit", killAll);
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await Promise.all(servers.map(({ child }) => stopServer(child)));
    process.off("exit", killAll);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < masters; i++) {
      const port = await freeClusterPort(servers.map((server) => server.port));
      servers.push(startServer(binaries.server, dir, port));
    }
    for (const server of servers) await waitForPing(server.port, server.output, deadline);
    const addresses = servers.map(({ port }) => `127.0.0.1:${port}`);
    await run(
      binaries.cli,
      ["--cluster", "create", ...addresses, "--cluster-replicas", "0", "--cluster-yes"],
      { timeout: Math.max(1_000, deadline - Date.now()) },
    );
    for (const { port } of servers) await waitForClusterOk(port, deadline);
  } catch (error) {
    const output = servers.map(({ port, output }) => `--- redis-server :${port}\n${output()}`).join("\n");
    await stop();
    throw new Error(`the Redis Cluster did not start: ${(error as Error).message}\n${output}`, {
      cause: error,
    });
  }
  const ports = servers.map(({ port }) => port);
  return { url: `redis://127.0.0.1:${ports[0]}`, ports, dir, stop };
}

function startServer(
  redisServer: string,
  dir: string,
  port: number,
): { port: number; child: ChildProcess; output: () => string } {
  const child = spawn(
    redisServer,
    [
      ...["--port", String(port), "--bind", "127.0.0.1", "--daemonize", "no", "--dir", dir],
      ...["--cluster-enabled", "yes", "--cluster-config-file", join(dir, `nodes-${port}.conf`)],
      ...["--save", "", "--appendonly", "no", "--maxmemory-policy", "noeviction"],
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString("utf8")).slice(-8_000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  return { port, child, output: () => output };
}

async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  const done = await Promise.race([exited.then(() => true), sleep(5_000, false)]);
  if (!done) {
    child.kill("SIGKILL");
    await exited;
  }
}

/**
 * A port whose cluster bus port (port + 10000) is free as well. The kernel's ephemeral ports are
 * often above 55535, so candidates come from 20000–29999 and both are bound briefly to check.
 */
async function freeClusterPort(taken: readonly number[]): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 10_000);
    if (taken.includes(port)) continue;
    if ((await canBind(port)) && (await canBind(port + 10_000))) return port;
  }
  throw new Error("found no free port pair (p, p + 10000) in 20000–29999");
}

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

async function waitForPing(port: number, output: () => string, deadline: number): Promise<void> {
  for (;;) {
    if (await answers(port, (redis) => redis.ping().then((reply) => reply === "PONG"))) return;
    if (Date.now() > deadline)
      throw new Error(`redis-server on port ${port} never answered PING: ${output()}`);
    await sleep(50);
  }
}

async function waitForClusterOk(port: number, deadline: number): Promise<void> {
  for (;;) {
    const ok = await answers(port, async (redis) =>
      /cluster_state:ok/.test(String(await redis.call("CLUSTER", "INFO"))),
    );
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`node ${port} never reported cluster_state:ok`);
    await sleep(100);
  }
}

/** Runs `check` on a short-lived plain connection to one node; false when the node does not answer. */
async function answers(port: number, check: (redis: Redis) => Promise<boolean>): Promise<boolean> {
  const redis = new Redis({
    host: "127.0.0.1",
    port,
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: 1_000,
  });
  redis.on("error", () => {});
  try {
    await redis.connect();
    return await check(redis);
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}
