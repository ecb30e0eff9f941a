import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { RedisNotFoundError } from "./errors.ts";
import { type FindRedisServerOptions, findRedisServer, redisSearchDirs } from "./find-redis-server.ts";
import { launch } from "./launch.ts";
import { pingRedis } from "./redis-ping.ts";
import { reclaimDataDir, removeOwnerFile, writeOwnerFile } from "./stale-server.ts";
import type { StopPlan } from "./supervised-server.ts";

export interface LocalRedis {
  /** `redis://127.0.0.1:<port>` */
  url: string;
  port: number;
  dataDir: string;
  /** The redis-server's pid. */
  pid: number;
  /** SIGTERM (Redis flushes the AOF and exits); waits until the server has exited. Safe to call more than once. */
  stop(): Promise<void>;
}

export interface PrivateRedisOptions {
  /** Redis's working directory: AOF files and its pidfile, e.g. `.data/redis`. Kept between runs. */
  dataDir: string;
  /** @default a free port, picked on each start */
  port?: number;
  /** Where to look for redis-server. @default PATH, then COMMON_REDIS_DIRS */
  search?: FindRedisServerOptions;
  /** Receives the server's output and what the launcher does. @default silent */
  log?: (line: string) => void;
  /** @default 30_000 */
  startTimeoutMs?: number;
}

const PID_FILE = "redis.pid";
const STOP_PLAN: StopPlan = { graceMs: 10_000, escalate: [] };

/**
 * Starts a private `redis-server` from PATH on 127.0.0.1, configured as BullMQ needs it: append-only
 * persistence (so jobs survive a restart) and `maxmemory-policy noeviction`. A server left running in
 * `dataDir` by a run that was killed is stopped first.
 *
 * @throws RedisNotFoundError when there is no redis-server; its message says how to get one.
 */
export async function startPrivateRedis(options: PrivateRedisOptions): Promise<LocalRedis> {
  const log = options.log ?? (() => {});
  const redisServer = findRedisServer(options.search);
  if (!redisServer) throw new RedisNotFoundError(redisSearchDirs(options.search));
  const dataDir = resolve(options.dataDir);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const pidFile = join(dataDir, PID_FILE);

  await reclaimDataDir({
    dataDir,
    pidFile,
    parsePid: (text) => {
      const pid = Number(text.trim());
      return Number.isInteger(pid) && pid > 0 ? pid : null;
    },
    commandName: "redis-server",
    signals: ["SIGTERM"],
    graceMs: STOP_PLAN.graceMs,
    keepPidFileOfExitedServer: false,
    log,
  });

  const { server, port } = await launch({
    name: "redis-server",
    port: options.port,
    command: (port) => ({
      command: redisServer,
      // No config file: only these settings and Redis's defaults apply.
      args: [
        ...["--port", String(port), "--bind", "127.0.0.1", "--protected-mode", "yes"],
        ...["--dir", dataDir, "--pidfile", pidFile, "--daemonize", "no"],
        ...["--appendonly", "yes", "--appendfsync", "everysec", "--save", ""],
        ...["--maxmemory-policy", "noeviction"],
      ],
      stopSignal: "TERM",
    }),
    isReady: (probe) => pingRedis(probe.port),
    timeoutMs: options.startTimeoutMs ?? 30_000,
    stopPlan: STOP_PLAN,
    log,
  });

  writeOwnerFile(dataDir, server.pid);
  server.hold(false);
  const stop = async () => {
    await server.stop(STOP_PLAN);
    removeOwnerFile(dataDir);
  };
  return { url: `redis://127.0.0.1:${port}`, port, dataDir, pid: server.pid, stop };
}
