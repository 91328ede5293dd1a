import { defineConfig } from 'vitest/config';

// Unit and property tests run on the TypeScript sources; the CLI tests run the built dist/.
// Oracle tests (test/oracles/**) need external tools and run only under `npm run test:oracles`.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'examples/**/*.test.ts'],
    exclude: ['test/oracles/**', 'node_modules/**', 'dist/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
