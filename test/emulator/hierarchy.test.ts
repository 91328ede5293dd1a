// Hand-computed hit/miss sequences for small configurations of the memory-hierarchy model:
// direct-mapped and 2-way LRU caches, line-spanning accesses, per-size TLB arrays, the shared
// STLB, prefetch, cycles, warm/cold runs, overrides.

import { describe, expect, it } from 'vitest';
import { applyOverrides, CONFIRMED, HierarchyConfigError, MemoryHierarchy, OVERRIDE_KEYS, PRESETS, VALUE_STATUS } from '../../emulator/hierarchy/index.js';
import { FixtureSpace, small } from './hierarchy-fixture.js';

const BASE = 0x10000;
const L = 64;

function model(over: Record<string, string | number>): { h: MemoryHierarchy; space: FixtureSpace } {
  const space = new FixtureSpace();
  return { h: new MemoryHierarchy(space, small(over)), space };
}

describe('caches', () => {
  it('direct-mapped L1d: conflicting lines evict each other, the L2 keeps both', () => {
    // L1d 4 sets x 1 way; L2 8 sets x 2 ways.
    const { h } = model({ 'l1d.sizeBytes': 256, 'l1d.ways': 1, 'l2.sizeBytes': 1024, 'l2.ways': 2 });
    h.load(BASE, 8); //          line 1024, set 0: miss (L2 miss)
    h.load(BASE + 8, 8); //      same line: hit
    h.load(BASE + 0x100, 8); //  line 1028, set 0: miss, evicts 1024 (L2 miss)
    h.load(BASE, 8); //          miss again in L1, hit in L2
    h.load(BASE + L, 8); //      line 1025, set 1: miss (L2 miss)
    h.load(BASE + L + 4, 4); //  hit
    const s = h.stats();
    expect(s.l1d).toEqual({ accesses: 6, misses: 4 });
    expect(s.l2).toEqual({ accesses: 4, misses: 3 });
  });

  it('2-way set is LRU, not FIFO', () => {
    // 2 sets x 2 ways: lines A = 0, B = 2, C = 4 all map to set 0.
    const { h } = model({ 'l1d.sizeBytes': 256, 'l1d.ways': 2 });
    const A = BASE, B = BASE + 2 * L, C = BASE + 4 * L;
    const missed: boolean[] = [];
    for (const a of [A, B, A, C, B, A]) {
      const before = h.stats().l1d.misses;
      h.load(a, 8);
      missed.push(h.stats().l1d.misses > before);
    }
    // A miss, B miss, A hit (A now MRU), C miss evicts B, B miss evicts A, A miss evicts C.
    expect(missed).toEqual([true, true, false, true, true, true]);
  });

  it('an access spanning two lines is one access, one miss, and fills both lines', () => {
    const { h } = model({ 'l1d.sizeBytes': 1024, 'l1d.ways': 2 });
    h.load(BASE + L - 4, 8);
    expect(h.stats().l1d).toEqual({ accesses: 1, misses: 1 });
    expect(h.stats().l2).toEqual({ accesses: 1, misses: 1 });
    h.load(BASE, 8);
    h.load(BASE + L, 8);
    expect(h.stats().l1d).toEqual({ accesses: 3, misses: 1 });
    // First line present, second not: still one miss, and L2 sees the whole access once.
    h.store(BASE + 2 * L - 2, 4);
    const s = h.stats();
    expect(s.l1d).toEqual({ accesses: 4, misses: 2 });
    expect(s.storeL1d).toEqual({ accesses: 1, misses: 1 });
    expect(s.l2).toEqual({ accesses: 2, misses: 2 });
  });

  it('instruction fetches go to L1i only; consecutive fetches in a line hit', () => {
    const { h } = model({ 'l1i.sizeBytes': 512, 'l1i.ways': 1 });
    for (let pc = BASE; pc < BASE + 2 * L; pc += 4) h.fetch(pc, 4);
    h.fetch(BASE + 2 * L - 2, 4); // spans into line 2
    const s = h.stats();
    expect(s.insns).toBe(33);
    expect(s.l1i).toEqual({ accesses: 33, misses: 3 });
    expect(s.l1d).toEqual({ accesses: 0, misses: 0 });
    expect(s.fetchL2).toEqual({ accesses: 3, misses: 3 });
    expect(s.itlb).toEqual({ accesses: 33, misses: 1 });
  });

  it('fetch fast path keeps LRU exact when a prefetch touches the same set', () => {
    const { h } = model({ 'l1i.sizeBytes': 128, 'l1i.ways': 2 }); // one set, 2 ways
    h.fetch(BASE, 4); //                 A miss
    h.fetch(BASE + L, 4); //             B miss
    h.prefetch(BASE + 2 * L, 'code'); // C fills, evicts A
    h.fetch(BASE + L + 4, 4); //         B hit: set [B, C]
    h.fetch(BASE + 3 * L, 4); //         D miss evicts C: [D, B]
    h.fetch(BASE + 2 * L, 4); //         C miss evicts B
    const s = h.stats();
    expect(s.l1i).toEqual({ accesses: 5, misses: 4 });
    expect(s.prefetches).toBe(1);
  });

  it('an LLC below L2 sees only L2 misses', () => {
    const { h } = model({ 'l1d.sizeBytes': 128, 'l1d.ways': 1, 'l2.sizeBytes': 256, 'l2.ways': 1, 'llc.sizeBytes': 4096, 'llc.ways': 4 });
    for (const a of [0, 4, 0, 4, 0]) h.load(BASE + a * L, 8); // lines 0 and 4 conflict in L1 and L2
    const s = h.stats();
    expect(s.l1d).toEqual({ accesses: 5, misses: 5 });
    expect(s.l2).toEqual({ accesses: 5, misses: 5 });
    expect(s.llc).toEqual({ accesses: 5, misses: 2 });
  });
});

describe('TLBs', () => {
  const tlbOver = {
    'dtlb.entries4k': 2, 'dtlb.ways4k': 2, 'dtlb.entries2m': 1, 'dtlb.ways2m': 1,
    'stlb.entries': 4, 'stlb.ways': 4,
    'cycles.stlbHit': 7, 'cycles.walk': 30, 'cycles.l1Miss': 0, 'cycles.l2Miss': 0, 'cycles.base': 1,
  };

  it('4 KiB pages evict each other in the L1 dTLB and come back from the STLB', () => {
    const { h } = model(tlbOver);
    for (const p of [0, 1, 2, 0]) h.load(BASE + p * 4096, 8);
    const s = h.stats();
    // P0, P1, P2 miss and walk; P2 evicts P0 (LRU); P0 misses the L1 dTLB and hits the STLB.
    expect(s.dtlb).toEqual({ accesses: 4, misses: 4 });
    expect(s.stlb).toEqual({ accesses: 4, misses: 3 });
    expect(s.walks).toBe(3);
    expect(s.cycles).toBe(3 * 30 + 7);
  });

  it('a 2 MiB mapping takes one 2 MiB entry and does not evict 4 KiB entries', () => {
    const { h, space } = model(tlbOver);
    const HUGE = 0x40000000;
    space.hugeRegions.add(HUGE / 0x200000);
    h.load(BASE, 8);
    h.load(BASE + 4096, 8);
    for (let off = 0; off < 0x200000; off += 0x20000) h.load(HUGE + off, 8); // 16 pages of the leaf
    h.load(BASE, 8);
    h.load(BASE + 4096, 8);
    const s = h.stats();
    expect(s.dtlb).toEqual({ accesses: 20, misses: 3 });
    expect(s.walks).toBe(3);
  });

  it('mixed-size L1 TLB (entries2m = 0): a 2 MiB translation occupies a 4 KiB slot', () => {
    const { h, space } = model({ ...tlbOver, 'dtlb.entries2m': 0, 'dtlb.ways2m': 0 });
    const HUGE = 0x40000000;
    space.hugeRegions.add(HUGE / 0x200000);
    h.load(BASE, 8);
    h.load(BASE + 4096, 8);
    h.load(HUGE, 8); //        evicts BASE (LRU) from the 2-entry array
    h.load(HUGE + 8192, 8); // same 2 MiB entry: hit
    h.load(BASE, 8); //        miss, STLB hit
    expect(h.stats().dtlb).toEqual({ accesses: 5, misses: 4 });
    expect(h.stats().stlb).toEqual({ accesses: 4, misses: 3 });
  });

  it('the STLB is shared by fetch and data sides', () => {
    const { h } = model(tlbOver);
    h.fetch(BASE, 4);
    h.load(BASE + 100, 8);
    const s = h.stats();
    expect(s.itlb.misses).toBe(1);
    expect(s.dtlb.misses).toBe(1);
    expect(s.stlb).toEqual({ accesses: 2, misses: 1 });
    expect(s.walks).toBe(1);
  });

  it('an access crossing a page boundary looks up both pages once', () => {
    const { h } = model(tlbOver);
    h.load(BASE + 4096 - 4, 8);
    expect(h.stats().dtlb).toEqual({ accesses: 1, misses: 1 });
    expect(h.stats().walks).toBe(2);
    h.load(BASE, 1);
    h.load(BASE + 4096, 1);
    expect(h.stats().dtlb).toEqual({ accesses: 3, misses: 1 });
  });

  it('page sizes are cached per page and re-read after mappingChanged', () => {
    const { h, space } = model(tlbOver);
    const R = 0x40000000;
    for (let i = 0; i < 10; i++) h.load(R + 8 * i, 8);
    const calls = space.pageInfoCalls;
    for (let i = 0; i < 10; i++) h.load(R + 64 * i, 8);
    expect(space.pageInfoCalls).toBe(calls);
    space.remap(R, 0x200000, true);
    h.resetStats();
    h.load(R + 0x100000, 8); // now inside a 2 MiB leaf: 2 MiB entry miss
    h.load(R, 8); //            same leaf: hit
    expect(h.stats().dtlb).toEqual({ accesses: 2, misses: 1 });
    expect(space.pageInfoCalls).toBeGreaterThan(calls);
  });

  it('a changed range shoots down exactly its pages in every TLB (flush_tlb_kernel_range)', () => {
    const { h, space } = model({ ...tlbOver, 'stlb.entries': 8, 'stlb.ways': 8 });
    h.load(BASE, 8); //         P0 walk
    h.load(BASE + 4096, 8); //  P1 walk
    h.fetch(BASE + 4096, 4); // P1 iTLB miss, STLB hit
    space.remap(BASE + 4096, 4096, false); // P1 only
    h.resetStats();
    h.load(BASE, 8); //         P0 still cached: hit
    h.load(BASE + 4096, 8); //  P1 dropped from dTLB and STLB: miss + walk
    h.fetch(BASE + 4096, 4); // and from the iTLB: miss, STLB hit (refilled by the load)
    const s = h.stats();
    expect(s.dtlb).toEqual({ accesses: 2, misses: 1 });
    expect(s.itlb).toEqual({ accesses: 1, misses: 1 });
    expect(s.stlb).toEqual({ accesses: 2, misses: 1 });
    expect(s.walks).toBe(1);
    expect(s.shootdowns).toEqual({ pages: 0, full: 0 }); // counted before resetStats
  });

  it('a 4 KiB shootdown inside a 2 MiB leaf drops the 2 MiB translation; a range above the ceiling flushes all', () => {
    const { h, space } = model({ ...tlbOver, 'stlb.entries': 8, 'stlb.ways': 8, 'shootdown.ceilingPages': 4 });
    const HUGE = 0x40000000;
    space.hugeRegions.add(HUGE / 0x200000);
    h.load(HUGE, 8);
    h.load(BASE, 8);
    space.remap(HUGE + 0x10000, 4096, true); // one page of the leaf (set_memory on part of it)
    h.load(HUGE + 0x1000, 8); // miss + walk: the leaf's entry went, though this page did not change
    h.load(BASE, 8); //          hit
    let s = h.stats();
    expect(s.dtlb).toEqual({ accesses: 4, misses: 3 });
    expect(s.walks).toBe(3);
    expect(s.shootdowns).toEqual({ pages: 1, full: 0 });
    space.remap(0x50000000, 5 * 4096, false); // 5 pages > ceiling 4: everything goes
    h.load(BASE, 8);
    s = h.stats();
    expect(s.dtlb.misses).toBe(4);
    expect(s.walks).toBe(4);
    expect(s.shootdowns).toEqual({ pages: 1, full: 1 });
    space.remap(0x50000000, 4 * 4096, false); // 4 pages = ceiling: one by one
    expect(h.stats().shootdowns).toEqual({ pages: 5, full: 1 });
  });
});

describe('prefetch, cycles, warm and cold runs', () => {
  it('a data prefetch fills L1d and L2 without counting as an access or miss', () => {
    const { h } = model({ 'l1d.sizeBytes': 1024, 'l1d.ways': 2 });
    h.prefetch(BASE + 5 * L, 'data');
    expect(h.stats().l1d).toEqual({ accesses: 0, misses: 0 });
    expect(h.stats().l2).toEqual({ accesses: 0, misses: 0 });
    h.load(BASE + 5 * L + 8, 8);
    const s = h.stats();
    expect(s.l1d).toEqual({ accesses: 1, misses: 0 });
    expect(s.dtlb).toEqual({ accesses: 1, misses: 0 });
    expect(s.prefetches).toBe(1);
  });

  it('a prefetch of an unmapped page does nothing but count', () => {
    const { h, space } = model({});
    space.unmapped.add(BASE / 4096);
    h.prefetch(BASE, 'data');
    h.load(BASE + 4096, 8);
    expect(h.l1d.contains(BASE)).toBe(false);
    expect(h.stats().prefetches).toBe(1);
  });

  it('cycles = base x insns + miss penalties + STLB hits + walks', () => {
    const { h } = model({
      'l1d.sizeBytes': 128, 'l1d.ways': 1, 'l2.sizeBytes': 256, 'l2.ways': 1, 'llc.sizeBytes': 4096, 'llc.ways': 4,
      'cycles.base': 2, 'cycles.l1Miss': 10, 'cycles.l2Miss': 40, 'cycles.llcMiss': 200, 'cycles.walk': 25, 'cycles.stlbHit': 7,
    });
    h.fetch(BASE, 4); //           insn 1: L1i miss, L2 miss, LLC miss; iTLB miss + walk
    h.load(BASE + 0x1000, 8); //   dTLB miss + walk; L1d/L2/LLC miss
    h.fetch(BASE + 4, 4); //       insn 2: hit
    h.load(BASE + 0x1000, 8); //   hit
    h.load(BASE, 8); //            dTLB miss, STLB hit; L1d miss; L2: line 1024 set 0 was replaced by... see below
    const s = h.stats();
    // L2 (4 sets x 1): line 1024 (set 0) then line 1088 (set 0) evicts it, so the last load misses L2 and hits the LLC.
    expect(s.l2).toEqual({ accesses: 3, misses: 3 });
    expect(s.llc).toEqual({ accesses: 3, misses: 2 });
    expect(s.cycles).toBe(2 * 2 + 3 * 10 + 3 * 40 + 2 * 200 + 2 * 25 + 7);
  });

  it('resetStats keeps contents (warm), flush empties them (cold)', () => {
    const { h } = model({});
    h.fetch(BASE, 4);
    h.load(BASE + 0x2000, 8);
    h.resetStats();
    expect(h.stats().l1i).toEqual({ accesses: 0, misses: 0 });
    h.fetch(BASE, 4);
    h.load(BASE + 0x2000, 8);
    let s = h.stats();
    expect([s.l1i.misses, s.l1d.misses, s.itlb.misses, s.dtlb.misses]).toEqual([0, 0, 0, 0]);
    h.flush();
    h.resetStats();
    h.fetch(BASE, 4);
    h.load(BASE + 0x2000, 8);
    s = h.stats();
    expect([s.l1i.misses, s.l1d.misses, s.itlb.misses, s.dtlb.misses, s.walks]).toEqual([1, 1, 1, 1, 2]);
  });
});

describe('configuration', () => {
  it('presets validate and name their confirmed values', () => {
    for (const [name, p] of Object.entries(PRESETS)) {
      expect(() => applyOverrides(p, {})).not.toThrow();
      expect(CONFIRMED[name as keyof typeof PRESETS].length).toBeGreaterThan(0);
      for (const k of Object.keys(VALUE_STATUS[name as keyof typeof PRESETS])) {
        const known = k.endsWith('.*') ? OVERRIDE_KEYS.some((o) => o.startsWith(k.slice(0, -1))) : OVERRIDE_KEYS.includes(k);
        expect(known, k).toBe(true);
      }
    }
    expect(PRESETS['neoverse-n1'].llc).toBeUndefined();
    expect(PRESETS.skylake.stlb).toEqual({ entries: 1536, ways: 12 });
  });

  it('overrides parse units, copy the base, and reject unknown keys and bad geometry', () => {
    const base = PRESETS.skylake;
    const c = applyOverrides(base, { 'l1d.sizeBytes': '64k', 'l1d.ways': 16, 'cycles.walk': '30', 'itlb.entries4k': '0x40' });
    expect(c.l1d).toEqual({ sizeBytes: 65536, ways: 16, lineBytes: 64, hitCycles: 4 });
    expect(c.itlb.entries4k).toBe(64);
    expect(c.cycles.walk).toBe(30);
    expect(base.l1d.sizeBytes).toBe(32768);
    expect(() => applyOverrides(base, { 'l1d.size': 1 })).toThrow(HierarchyConfigError);
    expect(() => applyOverrides(base, { 'cycles.walk': 'lots' })).toThrow(/not a number/);
    expect(() => applyOverrides(base, { 'l2.sizeBytes': 3 * 65536 })).toThrow(/not a power of two/);
    expect(() => applyOverrides(base, { 'stlb.ways': 7 })).toThrow(HierarchyConfigError);
    expect(applyOverrides(PRESETS['neoverse-n1'], { 'llc.sizeBytes': '4m', 'llc.ways': 16 }).llc?.sizeBytes).toBe(4 * 1024 * 1024);
    expect(applyOverrides(base, { llc: 'none' }).llc).toBeUndefined();
    expect(applyOverrides(base, { 'shootdown.ceilingPages': 0 }).shootdown.ceilingPages).toBe(0);
    expect(() => applyOverrides(base, { 'shootdown.ceilingPages': 1.5 })).toThrow(/shootdown.ceilingPages/);
    expect([PRESETS.skylake.shootdown.ceilingPages, PRESETS['neoverse-n1'].shootdown.ceilingPages]).toEqual([33, 512]);
    try {
      applyOverrides(base, { 'l9.x': 1 });
    } catch (e) {
      expect((e as HierarchyConfigError).details.key).toBe('l9.x');
    }
  });
});
