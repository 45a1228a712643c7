import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: { conditions: ['@stellar-emu/source'] },
  ssr: { resolve: { conditions: ['@stellar-emu/source'] } },
  test: {
    name: '@stellar-emu/metrics',
    environment: 'node',
    globals: true,
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // forks (the default) — the thread pool crashes with Temporal's native bridge.
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 300_000,
    reporters: ['default', ['json', { outputFile: '../../test-output/vitest/metrics.json' }]],
  },
});
