import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // One real Postgres and one real Temporal dev server for the whole run.
    globalSetup: ['test/global-setup.ts'],
    setupFiles: ['test/setup.ts'],
    // The Temporal worker's native bridge does not like worker threads.
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ['default'],
  },
});
