import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration tests spawn real processes: keep parallelism to the machine's 2 cores.
    maxWorkers: 2,
    globalSetup: ['test/globalSetup.ts'],
  },
});
