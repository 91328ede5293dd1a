// Conclusions are computed from the data: synthetic results in, sentences that follow the numbers
// out; changing the numbers changes the sentences.
import { describe, expect, it } from 'vitest';
import { colocateConclusions, type ColocateResult, type ColocateRow } from '../../jit/experiments/colocate.js';
import { comparePublished, packConclusions, type PackMode, type PackResult, type PackRow } from '../../jit/experiments/pack.js';
import { unpackConclusions } from '../../jit/bench/unpack.js';
import type { EmuUnpackRow } from '../../jit/experiments/unpack-emu.js';

function packRow(mode: PackMode, itlbMisses: number, cycles: number, extra: Partial<PackRow> = {}): PackRow {
  return {
    arch: 'x86_64', mode, preset: 'skylake', codePages4k: 10, codeRegions2m: 1, runs: 100, insns: 100_000, cycles, itlbMisses, stlbMisses: 0, walks: 0,
    l1iMisses: 1000, l2Misses: 0, llcMisses: 0, itlbMpki: itlbMisses / 100, l1iMpki: 10, l2Mpki: 0, walksPki: 0, cyclesPerRun: cycles / 100, cpi: cycles / 100_000, ...extra,
  };
}

function packResult(rows: PackRow[]): PackResult {
  return { params: { programs: 100, rounds: 1, arches: ['x86_64'], presets: { x86_64: 'skylake' }, overrides: {} }, sizes: {}, rows, skipped: [] };
}

describe('pack conclusions', () => {
  it('the published-ratio verdict follows the counts', () => {
    const v = (m4: number, m2: number): string => (comparePublished([packRow('pack-4k', m4, 1), packRow('pack-2m', m2, 1)])[0] as { verdict: string }).verdict;
    expect(v(1600, 300)).toBe('matches');
    expect(v(1600, 100)).toBe('larger');
    expect(v(1600, 1000)).toBe('smaller');
    expect(v(1600, 0)).toBe('unbounded');
    expect(v(0, 0)).toBe('no-misses');
  });

  it('the cheapest placement and the explanation change with the data', () => {
    const a = packConclusions(packResult([packRow('page', 900, 300_000, { walks: 100 }), packRow('pack-4k', 500, 250_000), packRow('pack-2m', 0, 200_000), packRow('rox-cache', 0, 200_000)]));
    expect(a.join('\n')).toMatch(/fewest iTLB misses with pack-2m\/rox-cache/);
    expect(a.join('\n')).toMatch(/cheapest per run: pack-2m\/rox-cache \(2000 cycles\), 33\.3% below page/);
    expect(a.join('\n')).toMatch(/page vs pack-2m: 100000 more cycles in total; \+900 iTLB misses/);
    expect(a.join('\n')).toMatch(/ratio is unbounded/);
    const b = packConclusions(packResult([packRow('page', 900, 200_000), packRow('pack-4k', 1600, 250_000), packRow('pack-2m', 300, 310_000)]));
    expect(b.join('\n')).toMatch(/cheapest per run: page \(2000 cycles\)/);
    expect(b.join('\n')).toMatch(/= 5\.33x, within 2x of the published 1600\/300 = 5\.33x: matches/);
    const c = packConclusions(packResult([packRow('page', 5, 200_000), packRow('pack-4k', 5, 200_500), packRow('pack-2m', 5, 200_100)]));
    expect(c.join('\n')).toMatch(/every placement had the same iTLB misses/);
    expect(c.join('\n')).toMatch(/cycles per run within 1% across placements/);
  });
});

function coRow(mode: ColocateRow['mode'], nodes: number, prefetch: boolean, cycles: number, extra: Partial<ColocateRow> = {}): ColocateRow {
  return { arch: 'x86_64', mode, prefetch, nodes, lookups: 100, cycles, insns: 1700, l1iMisses: 0, l1dMisses: 300, itlbMisses: 0, dtlbMisses: 0, walks: 0, ...extra };
}

function coResult(rows: ColocateRow[]): ColocateResult {
  return { params: { nodes: [1, 1000], lookups: 100, unpacksPerLookup: 1, keysPerNode: 256, pool: 4, prefetchKind: 'code', arches: ['x86_64'], presets: { x86_64: 'skylake' }, overrides: {} }, rows };
}

describe('colocate conclusions', () => {
  const grid = (big: Record<ColocateRow['mode'], number>, extra: Partial<Record<ColocateRow['mode'], Partial<ColocateRow>>> = {}, prefetchCut = 0): ColocateRow[] =>
    (['colocated', 'shared-pack', 'own-page', 'generic'] as const).flatMap((m) => [
      coRow(m, 1, false, m === 'generic' ? 8000 : 2300),
      coRow(m, 1, true, m === 'generic' ? 8000 : 2300),
      coRow(m, 1000, false, big[m], extra[m]),
      coRow(m, 1000, true, big[m] * (1 - (m === 'colocated' ? prefetchCut : 0)), extra[m]),
    ]);

  it('names the winner per node count, ties, and the miss kind behind the difference', () => {
    const a = colocateConclusions(coResult(grid({ colocated: 120_000, 'shared-pack': 100_000, 'own-page': 130_000, generic: 125_000 }, { colocated: { itlbMisses: 80, l1iMisses: 200 } })));
    const text = a.join('\n');
    expect(text).toMatch(/x86_64: fewest cycles per lookup: colocated\/shared-pack\/own-page \(tied within 1%\) at N=1; shared-pack at N=1000\./);
    expect(text).toMatch(/shared-pack beats colocated by 200 cycles\/lookup \(colocated has 2 more L1i misses\/lookup, 0\.8 more iTLB misses\/lookup\)/);
    expect(text).toMatch(/x86_64 colocated: the code prefetch of the unpacker's line never cut cycles by more than 1%/);
    expect(text).toMatch(/x86_64 at N=1000 vs bkey\.md §9 .*: agrees in direction, colocated costs 200 more cycles\/lookup than shared-pack/);
    const b = colocateConclusions(coResult(grid({ colocated: 90_000, 'shared-pack': 100_000, 'own-page': 130_000, generic: 125_000 }, { 'shared-pack': { dtlbMisses: 150 } }, 0.1)));
    const tb = b.join('\n');
    expect(tb).toMatch(/colocated at N=1000\./);
    expect(tb).toMatch(/colocated wins by 100 cycles\/lookup over shared-pack \(shared-pack has 1\.5 more dTLB misses\/lookup\)/);
    expect(tb).toMatch(/x86_64 colocated: the code prefetch of the unpacker's line cut cycles at N=1000 \(best -10% at N=1000/);
    expect(tb).toMatch(/disagrees, colocated costs 100 fewer cycles\/lookup than shared-pack/);
    expect(tb).not.toEqual(text);
  });
});

describe('unpack conclusions', () => {
  const emu = (variant: 'compiled' | 'generic', temperature: 'hot' | 'cold', cycles: number, insns: number): EmuUnpackRow => ({
    family: 'extents', arch: 'x86_64', variant, temperature, codeBytes: 56, unpacks: 10, cycles, insns, l1iMisses: 1, l1dMisses: 2, itlbMisses: 0, dtlbMisses: 0,
  });
  it('ratios and the target verdict come from the rows', () => {
    const fam = (wasmNs: number, compiledCold: number): { family: string; variants: { name: string; ns: number }[]; emulator: EmuUnpackRow[] } => ({
      family: 'extents',
      variants: [{ name: 'generic TS', ns: 30 }, { name: 'wasm compiled (batch)', ns: wasmNs }],
      emulator: [emu('compiled', 'hot', 17, 17), emu('generic', 'hot', 79, 79), emu('compiled', 'cold', compiledCold, 17), emu('generic', 'cold', 3000, 79)],
    });
    const a = unpackConclusions([fam(10, 1000)], 3).join('\n');
    expect(a).toMatch(/wasm compiled 3x generic TS \(target >= 2\.5x: met\)/);
    expect(a).toMatch(/compiled 17 insns \/ 17 cycles \(5\.67 ns at 3 GHz\) vs generic 79 \/ 79 \(26\.33 ns\): 4\.65x fewer cycles compiled/);
    expect(a).toMatch(/compiled stays 3x cheaper cold/);
    expect(a).toMatch(/extents x86_64 compiled: 17 instructions per unpack, inside the reference's 15-20/);
    const b = unpackConclusions([fam(20, 6000)], 3).join('\n');
    expect(b).toMatch(/1\.5x generic TS \(target >= 2\.5x: NOT met\)/);
    expect(b).toMatch(/generic is 2x cheaper cold/);
    const c = unpackConclusions([{ ...fam(10, 1000), emulator: [emu('compiled', 'hot', 30, 30)] }], 3).join('\n');
    expect(c).toMatch(/30 instructions per unpack, outside the reference's 15-20/);
  });
});
