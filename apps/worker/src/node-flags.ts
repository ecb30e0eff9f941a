/**
 * Node flags every worker process starts with (`node ${WORKER_NODE_FLAGS} apps/worker/src/main.ts`):
 * docker-compose.yml, the dev stack, the tests and the benchmarks all launch workers with them.
 *
 * `--max-semi-space-size=16` caps V8's young generation at two 16 MB semi-spaces, its size before V8
 * began scaling it with the host's memory. On a host without a container memory limit V8 otherwise
 * grows it to two 64 MB semi-spaces (24 GB host), committed for good once a burst of sessions has
 * filled them: `npm run bench:overhead` measured the heaviest worker at 327–331 MB without the flag
 * and 255–267 MB with it, for throughput within the run-to-run noise (bench/README.md).
 */
export const WORKER_NODE_FLAGS: readonly string[] = ["--max-semi-space-size=16"];
