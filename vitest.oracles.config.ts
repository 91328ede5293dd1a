import { defineConfig } from 'vitest/config';

// Live oracle tests: external tools nobody here wrote (llvm-mc, clang-19, qemu-aarch64, Unicorn,
// cc, valgrind). Under CI=true a missing tool is a failure, not a skip (test/oracles/tools.ts).
export default defineConfig({
  test: {
    include: ['test/oracles/**/*.test.ts'],
    testTimeout: 300_000,
    hookTimeout: 300_000,
    pool: 'forks',
  },
});
