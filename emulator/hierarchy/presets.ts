// The two machine presets of reference/machine.md §4: an Intel Skylake client core (separate
// per-page-size L1 TLB arrays, 1536-entry 12-way STLB) and an Arm Neoverse N1 core (Cortex-A76
// MMU: 48-entry fully associative mixed-size L1 TLBs, 1280-entry 5-way shared L2 TLB), with the
// source status of every value: P primary source (manual, TRM, LLVM model, pmu-tools), S secondary,
// C from memory (unconfirmed), A a modelling assumption of this project. CONFIRMED lists the keys
// whose value comes from a primary source.
//
// Notes: N1's L2 TLB is 1280 entries 5-way = 256 sets; its L3 and DRAM are SoC-specific, so the
// preset has no LLC and l2Miss stands for memory. Skylake's LLC is one 2 MiB 16-way slice per core.

import type { HierarchyConfig } from './config.js';

export type SourceStatus = 'P' | 'S' | 'C' | 'A';

const skylake: HierarchyConfig = {
  name: 'skylake',
  l1i: { sizeBytes: 32 * 1024, ways: 8, lineBytes: 64 },
  l1d: { sizeBytes: 32 * 1024, ways: 8, lineBytes: 64, hitCycles: 4 },
  l2: { sizeBytes: 256 * 1024, ways: 4, lineBytes: 64, hitCycles: 12 },
  llc: { sizeBytes: 2 * 1024 * 1024, ways: 16, lineBytes: 64, hitCycles: 44 },
  itlb: { entries4k: 128, ways4k: 8, entries2m: 8, ways2m: 8 },
  dtlb: { entries4k: 64, ways4k: 4, entries2m: 32, ways2m: 4 },
  stlb: { entries: 1536, ways: 12 },
  cycles: { base: 1, l1Miss: 12, l2Miss: 44, llcMiss: 200, stlbHit: 7, walk: 25 },
  // arch/x86/mm/tlb.c tlb_single_page_flush_ceiling
  shootdown: { ceilingPages: 33 },
};

const neoverseN1: HierarchyConfig = {
  name: 'neoverse-n1',
  l1i: { sizeBytes: 64 * 1024, ways: 4, lineBytes: 64 },
  l1d: { sizeBytes: 64 * 1024, ways: 4, lineBytes: 64, hitCycles: 4 },
  l2: { sizeBytes: 1024 * 1024, ways: 8, lineBytes: 64, hitCycles: 10 },
  itlb: { entries4k: 48, ways4k: 48, entries2m: 0, ways2m: 0 },
  dtlb: { entries4k: 48, ways4k: 48, entries2m: 0, ways2m: 0 },
  stlb: { entries: 1280, ways: 5 },
  cycles: { base: 1, l1Miss: 10, l2Miss: 200, llcMiss: 0, stlbHit: 3, walk: 25 },
  // arch/arm64/include/asm/tlbflush.h flush_tlb_kernel_range: MAX_DVM_OPS = PTRS_PER_PTE
  shootdown: { ceilingPages: 512 },
};

export const PRESETS: { skylake: HierarchyConfig; 'neoverse-n1': HierarchyConfig } = {
  skylake,
  'neoverse-n1': neoverseN1,
};

export type PresetName = keyof typeof PRESETS;

/** Source status of each preset value (keys as in applyOverrides). */
export const VALUE_STATUS: Record<PresetName, Record<string, SourceStatus>> = {
  skylake: {
    'l1i.*': 'S',
    'l1d.*': 'S',
    'l1d.hitCycles': 'S',
    'l2.*': 'S',
    'l2.hitCycles': 'S',
    'llc.*': 'S',
    'llc.hitCycles': 'S',
    'itlb.entries4k': 'P',
    'itlb.ways4k': 'P',
    'itlb.entries2m': 'P',
    'itlb.ways2m': 'A',
    'dtlb.*': 'C',
    'stlb.*': 'C',
    'cycles.base': 'A',
    'cycles.l1Miss': 'S',
    'cycles.l2Miss': 'S',
    'cycles.llcMiss': 'P',
    'cycles.stlbHit': 'P',
    'cycles.walk': 'S',
    'shootdown.ceilingPages': 'P',
  },
  'neoverse-n1': {
    'l1i.*': 'P',
    'l1d.*': 'P',
    'l1d.hitCycles': 'P',
    'l2.sizeBytes': 'P',
    'l2.ways': 'P',
    'l2.lineBytes': 'P',
    'l2.hitCycles': 'C',
    'itlb.*': 'P',
    'dtlb.*': 'P',
    'stlb.*': 'P',
    'cycles.base': 'A',
    'cycles.l1Miss': 'C',
    'cycles.l2Miss': 'A',
    'cycles.llcMiss': 'A',
    'cycles.stlbHit': 'P',
    'cycles.walk': 'A',
    'shootdown.ceilingPages': 'P',
  },
};

/** Keys of a preset whose values come from a primary source ("l1i.*" = every geometry field). */
export const CONFIRMED: Record<PresetName, readonly string[]> = {
  skylake: Object.entries(VALUE_STATUS.skylake).filter(([, s]) => s === 'P').map(([k]) => k),
  'neoverse-n1': Object.entries(VALUE_STATUS['neoverse-n1']).filter(([, s]) => s === 'P').map(([k]) => k),
};

export function isPresetName(s: string): s is PresetName {
  return s === 'skylake' || s === 'neoverse-n1';
}
