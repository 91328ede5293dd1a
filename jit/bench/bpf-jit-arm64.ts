// Benchmark: the arm64 column of bpf-jit alone (`npm run bench -- bpf-jit-arm64`); the figures and
// programs are jitColumn's (bpf-jit-shared.ts): compile speed, execution in the emulator next to
// the interpreter, memory-check overhead (off / out-of-line / inline), code size vs ubpf's ~772 B.

import { jitColumn, jitRows } from './bpf-jit-shared.js';
import type { Benchmark, BenchOptions, BenchReport } from './types.js';

export const bench: Benchmark = {
  name: 'bpf-jit-arm64',
  description: 'arm64 BPF JIT: compile speed, execution in the emulator vs the interpreter, memory-check overhead, code size',
  async run(opts: BenchOptions): Promise<BenchReport> {
    const { initCapstone } = await import('../../support/capstone.js');
    await initCapstone();
    const a = jitColumn('arm64', opts);
    const text = ['arm64 BPF JIT benchmark', `${''.padEnd(52)}${'arm64'.padStart(16)}`, ...jitRows([a])].join('\n');
    return { json: { arm64: a }, text };
  },
};
