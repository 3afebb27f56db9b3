import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The CLI tests run the compiled bin: build it from the sources under test first.
    globalSetup: ['test/build-cli.ts'],
    // Integration and browser suites start real servers and sessions on a small shared machine.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Two cores: keep heavy suites from fighting each other.
    maxWorkers: 2,
  },
});
