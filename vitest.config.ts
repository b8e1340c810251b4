import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Daemons and child processes are real; two cores are shared, so keep files from fighting.
    fileParallelism: true,
    maxWorkers: 2,
    reporters: ['default', './test/support/summary-reporter.ts'],
    setupFiles: ['./test/support/wait-defaults.ts'],
    // as vi.waitFor (see wait-defaults.ts): polling waits for real processes on a busy machine
    expect: { poll: { timeout: 10_000 } },
  },
});
