// The model against a naive reference written separately here (sets as arrays in recency order,
// page sizes looked up on every access, no fast paths): seeded random streams of fetches, loads,
// stores and prefetches over a few pages, some inside a 2 MiB leaf, on random small geometries.
// Every counter must agree after every stream.

import { describe, expect, it } from 'vitest';
import { type HierarchyConfig, MemoryHierarchy } from '../../emulator/hierarchy/index.js';
import { Rng } from '../../support/rng.js';
import { FixtureSpace, small } from './hierarchy-fixture.js';

class RefLru {
  sets: number[][];
  constructor(entries: number, readonly ways: number) {
    this.sets = Array.from({ length: entries / ways }, () => []);
  }
  ref(tag: number, index: number): boolean {
    const n = this.sets.length;
    const set = this.sets[((index % n) + n) % n]!;
    const at = set.indexOf(tag);
    if (at >= 0) set.splice(at, 1);
    set.unshift(tag);
    if (set.length > this.ways) set.pop();
    return at < 0;
  }
}

class RefModel {
  l1i: RefLru; l1d: RefLru; l2: RefLru;
  it4: RefLru; it2: RefLru | null; dt4: RefLru; dt2: RefLru | null; st: RefLru;
  c = { insns: 0, l1iM: 0, l1dA: 0, l1dM: 0, l2A: 0, l2M: 0, itM: 0, dtM: 0, stA: 0, stM: 0, pf: 0, pen: 0 };
  constructor(readonly cfg: HierarchyConfig, readonly huge: (a: number) => boolean) {
    const lru = (s: number, w: number, l: number): RefLru => new RefLru(s / l, w);
    this.l1i = lru(cfg.l1i.sizeBytes, cfg.l1i.ways, cfg.l1i.lineBytes);
    this.l1d = lru(cfg.l1d.sizeBytes, cfg.l1d.ways, cfg.l1d.lineBytes);
    this.l2 = lru(cfg.l2.sizeBytes, cfg.l2.ways, cfg.l2.lineBytes);
    this.it4 = new RefLru(cfg.itlb.entries4k, cfg.itlb.ways4k);
    this.it2 = cfg.itlb.entries2m ? new RefLru(cfg.itlb.entries2m, cfg.itlb.ways2m) : null;
    this.dt4 = new RefLru(cfg.dtlb.entries4k, cfg.dtlb.ways4k);
    this.dt2 = cfg.dtlb.entries2m ? new RefLru(cfg.dtlb.entries2m, cfg.dtlb.ways2m) : null;
    this.st = new RefLru(cfg.stlb.entries, cfg.stlb.ways);
  }
  lines(addr: number, size: number, line: number): number[] {
    const out: number[] = [];
    for (let l = Math.floor(addr / line); l <= Math.floor((addr + size - 1) / line); l++) out.push(l);
    return out;
  }
  cache(c: RefLru, line: number, addr: number, size: number): boolean {
    let miss = false;
    for (const l of this.lines(addr, size, line)) if (c.ref(l, l)) miss = true;
    return miss;
  }
  tlb(small: RefLru, large: RefLru | null, addr: number, size: number, count: boolean): boolean {
    const keys = new Set<string>();
    const pages: [number, boolean][] = [];
    for (const a of [addr, addr + size - 1]) {
      const h = this.huge(a);
      const pn = Math.floor(a / (h ? 0x200000 : 4096));
      if (!keys.has(`${pn}/${h}`)) { keys.add(`${pn}/${h}`); pages.push([pn, h]); }
    }
    let miss = false;
    for (const [pn, h] of pages) {
      const m = h ? (large ?? small).ref(pn * 2 + 1, pn) : small.ref(pn * 2, pn);
      if (!m) continue;
      miss = true;
      if (count) this.c.stA++;
      const sm = this.st.ref(pn * 2 + (h ? 1 : 0), pn);
      if (count) {
        if (sm) { this.c.stM++; this.c.pen += this.cfg.cycles.walk; } else this.c.pen += this.cfg.cycles.stlbHit;
      }
    }
    return miss;
  }
  fetch(a: number, n: number): void {
    this.c.insns++;
    if (this.tlb(this.it4, this.it2, a, n, true)) this.c.itM++;
    if (this.cache(this.l1i, this.cfg.l1i.lineBytes, a, n)) { this.c.l1iM++; this.c.pen += this.cfg.cycles.l1Miss; this.lower(a, n); }
  }
  data(a: number, n: number): void {
    this.c.l1dA++;
    if (this.tlb(this.dt4, this.dt2, a, n, true)) this.c.dtM++;
    if (this.cache(this.l1d, this.cfg.l1d.lineBytes, a, n)) { this.c.l1dM++; this.c.pen += this.cfg.cycles.l1Miss; this.lower(a, n); }
  }
  lower(a: number, n: number): void {
    this.c.l2A++;
    if (this.cache(this.l2, this.cfg.l2.lineBytes, a, n)) { this.c.l2M++; this.c.pen += this.cfg.cycles.l2Miss; }
  }
  prefetch(a: number, code: boolean): void {
    this.c.pf++;
    if (code) this.tlb(this.it4, this.it2, a, 1, false);
    else this.tlb(this.dt4, this.dt2, a, 1, false);
    if (this.cache(code ? this.l1i : this.l1d, (code ? this.cfg.l1i : this.cfg.l1d).lineBytes, a, 1)) this.cache(this.l2, this.cfg.l2.lineBytes, a, 1);
  }
}

const HUGE = 0x40000000;

describe('model == naive reference on random streams', () => {
  for (const seed of [1, 2, 3, 4, 5, 6]) {
    it(`seed ${seed}`, () => {
      const rng = new Rng(seed);
      const p2 = (lo: number, hi: number): number => 2 ** rng.int(lo, hi);
      const line = p2(4, 6);
      const over = {
        'l1i.lineBytes': line, 'l1i.ways': p2(0, 2), 'l1i.sizeBytes': 0,
        'l1d.lineBytes': line, 'l1d.ways': p2(0, 2), 'l1d.sizeBytes': 0,
        'l2.lineBytes': p2(5, 7), 'l2.ways': p2(0, 3), 'l2.sizeBytes': 0,
        'itlb.entries4k': 0, 'itlb.ways4k': p2(0, 1), 'itlb.entries2m': rng.bool() ? 2 : 0, 'itlb.ways2m': 2,
        'dtlb.entries4k': 0, 'dtlb.ways4k': p2(0, 1), 'dtlb.entries2m': rng.bool() ? 2 : 0, 'dtlb.ways2m': 1,
        'stlb.entries': 8, 'stlb.ways': p2(0, 2),
        'cycles.l1Miss': 3, 'cycles.l2Miss': 11, 'cycles.stlbHit': 5, 'cycles.walk': 17,
      };
      over['l1i.sizeBytes'] = over['l1i.lineBytes'] * over['l1i.ways'] * p2(0, 3);
      over['l1d.sizeBytes'] = over['l1d.lineBytes'] * over['l1d.ways'] * p2(0, 3);
      over['l2.sizeBytes'] = over['l2.lineBytes'] * over['l2.ways'] * p2(1, 4);
      over['itlb.entries4k'] = over['itlb.ways4k'] * p2(0, 2);
      over['dtlb.entries4k'] = over['dtlb.ways4k'] * p2(0, 2);
      if (over['itlb.entries2m'] === 0) over['itlb.ways2m'] = 0;
      if (over['dtlb.entries2m'] === 0) over['dtlb.ways2m'] = 0;
      const cfg = small(over);
      const space = new FixtureSpace();
      space.hugeRegions.add(HUGE / 0x200000);
      const h = new MemoryHierarchy(space, cfg);
      const ref = new RefModel(cfg, (a) => space.hugeRegions.has(Math.floor(a / 0x200000)));
      const bases = [0x10000, 0x11000, 0x13000, 0x18000, HUGE, HUGE + 0x5000, HUGE + 0x1ff000];
      let pc = bases[0]!;
      for (let k = 0; k < 4000; k++) {
        const r = rng.below(100);
        if (r < 50) {
          if (rng.below(10) === 0) pc = bases[rng.below(bases.length)]! + rng.below(4096);
          const n = rng.int(1, 15);
          h.fetch(pc, n);
          ref.fetch(pc, n);
          pc += n;
        } else if (r < 95) {
          const a = bases[rng.below(bases.length)]! + rng.below(4096 + 64) - 32;
          const n = [1, 2, 4, 8][rng.below(4)]!;
          if (rng.bool()) h.load(a, n);
          else h.store(a, n);
          ref.data(a, n);
        } else {
          const a = bases[rng.below(bases.length)]! + rng.below(4096);
          const code = rng.bool();
          h.prefetch(a, code ? 'code' : 'data');
          ref.prefetch(a, code);
        }
      }
      const s = h.stats();
      const c = ref.c;
      expect({
        insns: s.insns, l1iM: s.l1i.misses, l1dA: s.l1d.accesses, l1dM: s.l1d.misses, l2A: s.l2.accesses, l2M: s.l2.misses,
        itM: s.itlb.misses, dtM: s.dtlb.misses, stA: s.stlb.accesses, stM: s.stlb.misses, pf: s.prefetches, pen: s.cycles - s.insns * cfg.cycles.base,
      }).toEqual(c);
      expect(c.l1iM).toBeGreaterThan(0);
      expect(c.dtM).toBeGreaterThan(0);
    });
  }
});
