import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // One real Postgres and one real Temporal dev server for the whole run.
    globalSetup: ['test/global-setup.ts'],
    setupFiles: ['test/setup.ts'],
    // The Temporal worker's native bridge does not like worker threads.
    pool: 'forks',
    // Three files at a time even on two cores (vitest would run one): most of a file's time is
    // spent waiting on Temporal, Postgres and child processes, not on the CPU (on two cores: one
    // at a time 325 s, two 202 s, three 176 s). Each file has its own database and task queues,
    // and the suite is held to passing with one core kept busy.
    maxWorkers: 3,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ['default'],
  },
});
