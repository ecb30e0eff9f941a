import { defineConfig } from "vitest/config";

// Every test runs with its queues on Redis; the tests of what depends on the queue store (flows,
// the journal, rate limits, replicas, the API, the board, the reconciler) run again with them on
// PostgreSQL (`npm run test:postgres` runs only those).
const POSTGRES_QUEUE_TESTS = [
  "packages/queue/src/**/*.test.ts",
  "test/flow.test.ts",
  "test/journal.test.ts",
  "test/rate-limits.test.ts",
  "test/replicas.test.ts",
  "test/api.test.ts",
  "test/board.test.ts",
  "test/reconciler.test.ts",
];

export default defineConfig({
  test: {
    globalSetup: ["test/support/global-setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    // Most test time is waiting (simulated provider latency, leases, timers), so two files at once
    // fit even a 2-core machine; vitest's default there would be one.
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: {
          name: "redis",
          include: ["packages/*/src/**/*.test.ts", "apps/*/src/**/*.test.ts", "test/**/*.test.ts"],
        },
      },
      {
        extends: true,
        test: {
          name: "postgres",
          include: POSTGRES_QUEUE_TESTS,
          env: { TEST_QUEUE_BACKEND: "postgres" },
        },
      },
    ],
  },
});
