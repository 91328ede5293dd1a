// Programs and timing shared by the x86_64 and arm64 columns of the bpf-jit benchmark.

import { assemble } from '../bpf/asm.js';
import { loadProgram } from '../bpf/interp.js';
import type { BpfProgram } from '../bpf/runtime.js';

/** Sums the input bytes `ITERS` times: every ldxb goes through r1 (unproven: runtime-checked). */
export const MEM_LOOP = `
mov %r0, 0
mov %r6, %r1
mov %r7, %r2
lddw %r8, ITERS
outer:
mov %r1, %r6
mov %r2, 0
inner:
ldxb %r3, [%r1+0]
add %r0, %r3
add %r1, 1
add %r2, 1
jlt %r2, %r7, inner
sub %r8, 1
jne %r8, 0, outer
exit
`;

/** Mean ms per call after a warm-up of minMs / 2 (V8 tiers up first). */
export function timeIt(f: () => void, minMs: number): number {
  const w0 = performance.now();
  while (performance.now() - w0 < minMs / 2) f();
  let n = 0;
  const t0 = performance.now();
  let t = t0;
  do {
    f();
    n++;
    t = performance.now();
  } while (t - t0 < minMs);
  return (t - t0) / n;
}

/** A loop program with its iteration count filled in. */
export function withIters(src: string, iters: number): BpfProgram {
  return loadProgram(assemble(src.replace('ITERS', String(iters))), 'loop');
}
