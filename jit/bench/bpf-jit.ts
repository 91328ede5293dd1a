// Benchmark: the BPF JIT pipeline (jit/bpf/jit.ts) on x86_64 and arm64 side by side, each column
// measured by jitColumn (bpf-jit-shared.ts) in the same run: compile speed (target >= 2 M BPF
// insns/s on x86_64 including both passes), execution of JIT'd code in the emulator next to the
// reference interpreter (the baseline; ubpf's C interpreter ~100 M/s), memory-check overhead (checks
// off / every check out of line / inline fast window), and code size per BPF instruction and per
// BPF byte next to ubpf's 192-byte loop -> ~760 B x86_64 / ~772 B arm64 (reference/bpf.md §4.2).

import { jitColumn, jitRows } from './bpf-jit-shared.js';
import type { Benchmark, BenchOptions, BenchReport } from './types.js';

export const bench: Benchmark = {
  name: 'bpf-jit',
  description: 'BPF JIT: compile speed, execution in the emulator vs the interpreter, memory-check overhead, code size',
  async run(opts: BenchOptions): Promise<BenchReport> {
    const { initCapstone } = await import('../../support/capstone.js');
    await initCapstone();
    const x86 = jitColumn('x86_64', opts);
    opts.progress(1, 2, 'x86_64');
    const a64 = jitColumn('arm64', opts);
    opts.progress(2, 2, 'arm64');
    const json = { programInsns: x86.programInsns, loopBpfInsns: x86.loopBpfInsns, x86_64: x86, arm64: a64 };
    const text = [
      `BPF JIT benchmark (compile: random program of ${x86.programInsns} insns; execute: loop of ${x86.loopBpfInsns} BPF insns; memory checks: byte-sum loop of ${x86.memLoopBpfInsns} BPF insns)`,
      `${''.padEnd(52)}${'x86_64'.padStart(16)}${'arm64'.padStart(16)}`,
      ...jitRows([x86, a64]),
    ].join('\n');
    return { json, text };
  },
};
