// Runs one case of the Cachegrind agreement check (scripts/oracles/cachegrind.mjs) on the x86_64
// emulator with the memory-hierarchy model, and maps the model's counters onto Cachegrind's
// per-function columns for cg_kernel.
//
// Placement: Cachegrind's sets depend on addresses, so the kernel code, the data and the stack top
// are placed at the native addresses modulo 64 KiB (every case's largest set span, lines x sets,
// is at most 64 KiB; checked). Level mapping: Cachegrind's I1 / D1 / LL are l1i / l1d / l2 with no
// LLC (LL is its last level and is looked up only on an L1 miss, as our L2). The native cg_run's
// `call` pushes the return address just before cg_kernel starts (counted for cg_run); the emulator
// does not observe its own return-address push, so the harness stores to that slot first and then
// zeroes the counters, leaving the line where the native push left it.

import { AddressSpace } from '../../execmem/index.js';
import { createCpu } from '../../emulator/index.js';
import { applyOverrides, MemoryHierarchy, PRESETS } from '../../emulator/hierarchy/index.js';
import { hexToBytes } from '../../support/u64.js';
import type { CaseArgs, CgCounts, Geometry } from '../../scripts/oracles/cachegrind.mjs';

export type { CgCounts, Geometry };

/** One recorded case: the oracle's arguments and, once recorded, Cachegrind's counts. */
export interface CgCase extends CaseArgs {
  counts?: CgCounts;
}

export interface CgVectors {
  tool: string;
  kernelHex: string;
  kernelAddr: string;
  dataAddr: string;
  stackTop: string;
  cases: CgCase[];
}

export const SPAN = 65536;

const mod = (a: number, m: number): number => ((a % m) + m) % m;

/** Address in [base, base + SPAN) congruent to `native` modulo SPAN. */
function congruent(base: number, native: number): number {
  return base + mod(native - base, SPAN);
}

export function runCase(v: CgVectors, c: CgCase): CgCounts {
  for (const g of [c.I1, c.D1, c.LL]) {
    if ((g[0] / g[1]) > SPAN) throw new Error(`${c.name}: set span ${g[0] / g[1]} exceeds ${SPAN}`);
  }
  const space = new AddressSpace({ arch: 'x86_64', seed: 1 });
  const code = hexToBytes(v.kernelHex)!;
  const codeArea = space.execmemAlloc('MODULE_TEXT', code.length + SPAN);
  const entry = congruent(codeArea, Number(v.kernelAddr));
  space.textPokeCopy(entry, code);
  const need = c.dataOffset + c.n * c.stride + 128;
  const dataArea = space.vmalloc(Math.ceil((need + SPAN) / 4096) * 4096, 'cachegrind data');
  const data = congruent(dataArea, Number(v.dataAddr)) + c.dataOffset;
  const stackArea = space.vmalloc(2 * SPAN, 'cachegrind stack');
  const top = congruent(stackArea + 16384, Number(v.stackTop));
  const cfg = applyOverrides(PRESETS.skylake, {
    llc: 'none',
    'l1i.sizeBytes': c.I1[0], 'l1i.ways': c.I1[1], 'l1i.lineBytes': c.I1[2],
    'l1d.sizeBytes': c.D1[0], 'l1d.ways': c.D1[1], 'l1d.lineBytes': c.D1[2],
    'l2.sizeBytes': c.LL[0], 'l2.ways': c.LL[1], 'l2.lineBytes': c.LL[2],
  });
  const h = new MemoryHierarchy(space, cfg);
  const cpu = createCpu('x86_64', space);
  h.store(top - 8, 8);
  h.resetStats();
  cpu.call(entry, [data, c.n, c.stride, c.reps, c.mode], { observer: h, stack: { base: top - 16384, size: 16384 }, budget: 1e8 });
  const s = h.stats();
  h.dispose();
  cpu.dispose();
  return {
    Ir: s.insns,
    I1mr: s.l1i.misses,
    ILmr: s.fetchL2.misses,
    Dr: s.l1d.accesses - s.storeL1d.accesses,
    D1mr: s.l1d.misses - s.storeL1d.misses,
    DLmr: s.l2.misses - s.fetchL2.misses - s.storeL2.misses,
    Dw: s.storeL1d.accesses,
    D1mw: s.storeL1d.misses,
    DLmw: s.storeL2.misses,
  };
}
