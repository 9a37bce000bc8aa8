import { availableParallelism } from 'node:os';
import { defaultServerConditions } from 'vite';
import { defineConfig } from 'vitest/config';

// One run covers every package and the cross-package tests in test/. Workspace packages resolve
// to their TypeScript sources through the "@overlap/source" export condition: no build needed.
const conditions = ['@overlap/source', ...defaultServerConditions];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'test/**/*.test.ts', 'examples/**/*.test.ts'],
    environment: 'node',
    // Under CI, also write a machine-readable summary that .ci/run turns into its closing line.
    reporters: process.env.CI ? ['default', ['json', { outputFile: '.ci/test-results.json' }]] : ['default'],
    // One test file per core (vitest's default in a run is one fewer): most of the slow files spend
    // their time waiting on the real relay and CLI processes they start, so two files overlap well
    // on this project's 2-core machine. Every test waits for conditions, never for a fixed time.
    maxWorkers: availableParallelism(),
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
