/**
 * How every worker process is started: `MALLOC_ARENA_MAX=2 MALLOC_MMAP_THRESHOLD_=65536 node ${WORKER_NODE_FLAGS}
 * apps/worker/src/main.ts`. docker-compose.yml, the dev stack, the tests and the benchmarks all
 * launch workers this way (node-flags.test.ts holds docker-compose.yml to it).
 *
 * Both flags size V8's heap for a worker's load, which is many short jobs over a small live heap
 * (30–45 MB after a full GC, whatever the number of sessions run):
 * - `--max-semi-space-size=16` caps the young generation at two 16 MB semi-spaces, its size before
 *   V8 began scaling it with the host's memory. On a host without a container memory limit V8
 *   otherwise grows it to two 64 MB semi-spaces (24 GB host), committed for good once a burst of
 *   sessions has filled them.
 * - `--heap-growing-percent=30` lets the old generation grow to 1.3 times what survived the last
 *   full GC before the next one, where V8 otherwise allows up to 4 times on a large host: that slack
 *   is what made the heaviest worker's RSS climb from about 210 MB after 12 sessions to 325 MB after
 *   100. It is not a cap: a session with a large live set still gets all the heap it needs.
 *
 * `npm run bench:overhead -- --soak 100` measured the heaviest worker at 328–352 MB with the first
 * flag alone and 214–243 MB with both and `WORKER_ENV` (queues on Redis and on PostgreSQL), for
 * throughput within the run-to-run noise (bench/README.md, "Worker memory").
 */
export const WORKER_NODE_FLAGS: readonly string[] = ["--max-semi-space-size=16", "--heap-growing-percent=30"];

/**
 * Environment every worker process starts with, under the caller's own (glibc's malloc; musl ignores
 * both):
 * - `MALLOC_ARENA_MAX=2`: glibc otherwise gives each thread that allocates (libuv's pool, V8's GC
 *   helpers) an arena of its own, 10–20 MB more of a worker's RSS than two shared arenas take.
 * - `MALLOC_MMAP_THRESHOLD_=65536`: blocks of 64 kB and more (V8's compiler zones, large buffers)
 *   are mapped on their own and given back when freed. Otherwise glibc raises that threshold after
 *   each large free, up to 32 MB, and serves such blocks from its heap, which keeps what V8's
 *   compiler once used (a peak of 13–40 MB). The orchestrator ended 100 sessions at 151–153 MB
 *   instead of 165–185 MB, the provider process at 188–190 MB instead of 193–198 MB, for CPU per
 *   model call within the runs' noise. Since the git pack no longer deflates with 256 KiB zlib
 *   streams (which this setting made dearer: each one mapped and unmapped), the gain is smaller:
 *   149–151 MB against 154 MB and 183–189 MB against 194 MB, for 13.0 ms of CPU per call against
 *   13.6–14.7 ms (bench/README.md, eighth run).
 */
export const WORKER_ENV: Readonly<Record<string, string>> = {
  MALLOC_ARENA_MAX: "2",
  MALLOC_MMAP_THRESHOLD_: "65536",
};
