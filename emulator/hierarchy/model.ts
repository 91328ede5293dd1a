// The memory-hierarchy model: an AccessObserver (CallOptions.observer) that runs every guest
// instruction fetch, load, store and software prefetch through L1i / L1d, a unified L2, an optional
// LLC, the L1 iTLB / dTLB and the shared STLB, and counts accesses, misses, walks and cycles.
//
// Accounting follows Cachegrind (cachegrind/cg_sim.c) so runs can be checked against
// `valgrind --tool=cachegrind --cache-sim=yes` with the same geometry:
// - one access per fetched instruction (its length in bytes) to L1i, one per load or store to L1d;
//   write-allocate, no write-back traffic, stores and loads treated alike;
// - an access touching two lines references both and counts once, missing when either missed;
// - the next level is looked up only on a miss, with the whole access (both lines again);
// - levels are neither inclusive nor exclusive (no back-invalidation).
// Cachegrind's three levels I1/D1/LL map onto l1i/l1d/l2 with no llc (its LL is the last level).
// Known difference: the cores report a block's fetches when the block starts, before its loads and
// stores (Cachegrind interleaves them per instruction), and a block cut short by a fault or the
// budget has reported all its fetches; only the unified levels can tell, when a block's code and
// data lines compete in one set (the Cachegrind cases avoid that and agree exactly).
// TLBs: every access looks up the L1 TLB of its side for the page(s) it touches (one access, one
// miss if either page missed); a miss costs an STLB lookup, an STLB miss a walk. Page size comes
// from the address space (PageInfo.huge), cached per 4 KiB page number and dropped on
// mappingChanged. A mappingChanged of a range is the kernel's flush_tlb_kernel_range: up to
// cfg.shootdown.ceilingPages pages drop their translations one by one (both sizes, every TLB),
// a larger range flushes every TLB (counted as `shootdowns.pages` / `shootdowns.full`). Caches are
// physically tagged in hardware and keep their lines.
// Cycles = insns x base + l1Miss / l2Miss / llcMiss per access missing that level + stlbHit or walk
// per L1 TLB miss. Software prefetches fill the TLBs and caches of their side without counting as
// accesses or misses and cost nothing beyond their instruction (`prefetches` counts them; a
// prefetch of an unmapped address does nothing, as on hardware).
// Fast path: an access inside the line of the previous access on the same side finds that line
// and its page most recently used, so it only counts (exactly what the full lookup would do).
// Every fetch is one L1i and one iTLB access, every load/store one L1d and one dTLB access, so
// those access counts share one counter per side.

import type { GuestMemory } from '../../execmem/types.js';
import type { VAddr } from '../../support/u64.js';
import type { AccessObserver } from '../memory.js';
import { CacheLevel } from './cache.js';
import { type HierarchyConfig, cloneConfig, validateConfig } from './config.js';
import { SharedTlb, TlbLevel } from './tlb.js';

export interface LevelStats {
  accesses: number;
  misses: number;
}

export interface HierarchyStats {
  insns: number;
  cycles: number;
  l1i: LevelStats;
  l1d: LevelStats;
  l2: LevelStats;
  llc: LevelStats | null;
  itlb: LevelStats;
  dtlb: LevelStats;
  stlb: LevelStats;
  walks: number;
  prefetches: number;
  /** TLB shootdowns heard from the address space: pages invalidated one by one, full flushes. */
  shootdowns: { pages: number; full: number };
  /** Subsets by cause, for Cachegrind's columns: L1d accesses that were stores (Dw, D1mw). */
  storeL1d: LevelStats;
  /** L2 / LLC lookups caused by instruction fetches (ILmr when L2 is the last level). */
  fetchL2: LevelStats;
  fetchLlc: LevelStats | null;
  /** L2 / LLC lookups caused by stores (DLmw when L2 is the last level). */
  storeL2: LevelStats;
  storeLlc: LevelStats | null;
}

const PAGE_CACHE = 1024;
const KIND_4K = 0;
const KIND_2M = 1;
const KIND_UNMAPPED = 2;
const TWO_MIB = 2 * 1024 * 1024;
const PAGE_BYTES = 4096;

export class MemoryHierarchy implements AccessObserver {
  readonly cfg: HierarchyConfig;
  readonly space: GuestMemory;
  readonly l1i: CacheLevel;
  readonly l1d: CacheLevel;
  readonly l2: CacheLevel;
  readonly llc: CacheLevel | null;
  readonly itlb: TlbLevel;
  readonly dtlb: TlbLevel;
  readonly stlb: SharedTlb;

  private readonly pageTag = new Float64Array(PAGE_CACHE).fill(NaN);
  private readonly pageKind = new Uint8Array(PAGE_CACHE);
  private readonly unsubscribe: () => void;
  private readonly iLine: number;
  private readonly dLine: number;
  private lastI = NaN;
  private lastD = NaN;

  private insns = 0;
  private penalty = 0;
  private l1iMiss = 0;
  private l1dAcc = 0;
  private l1dMiss = 0;
  private stL1dAcc = 0;
  private stL1dMiss = 0;
  private l2Acc = 0;
  private l2Miss = 0;
  private fL2Acc = 0;
  private fL2Miss = 0;
  private stL2Acc = 0;
  private stL2Miss = 0;
  private llcAcc = 0;
  private llcMiss = 0;
  private fLlcAcc = 0;
  private fLlcMiss = 0;
  private stLlcAcc = 0;
  private stLlcMiss = 0;
  private itlbMiss = 0;
  private dtlbMiss = 0;
  private stlbAcc = 0;
  private stlbMiss = 0;
  private nPrefetch = 0;
  private shotPages = 0;
  private shotFull = 0;

  constructor(space: GuestMemory, cfg: HierarchyConfig) {
    validateConfig(cfg);
    this.cfg = cloneConfig(cfg);
    this.space = space;
    this.l1i = new CacheLevel(cfg.l1i);
    this.l1d = new CacheLevel(cfg.l1d);
    this.l2 = new CacheLevel(cfg.l2);
    this.llc = cfg.llc ? new CacheLevel(cfg.llc) : null;
    this.itlb = new TlbLevel(cfg.itlb);
    this.dtlb = new TlbLevel(cfg.dtlb);
    this.stlb = new SharedTlb(cfg.stlb.entries, cfg.stlb.ways);
    this.iLine = cfg.l1i.lineBytes;
    this.dLine = cfg.l1d.lineBytes;
    this.unsubscribe = space.subscribe({
      mappingChanged: (addr, len) => {
        this.pageTag.fill(NaN);
        this.lastI = NaN;
        this.lastD = NaN;
        this.shootdown(addr, len);
      },
    });
  }

  /** Stop listening to the address space. */
  dispose(): void {
    this.unsubscribe();
  }

  // ---- observer hooks -------------------------------------------------------------------------

  fetch(addr: VAddr, size: number): void {
    this.insns++;
    const off = addr - this.lastI;
    if (off >= 0 && off + size <= this.iLine) return;
    this.fetchSlow(addr, size);
  }

  load(addr: VAddr, size: number): void {
    this.l1dAcc++;
    const off = addr - this.lastD;
    if (off >= 0 && off + size <= this.dLine) return;
    this.dataSlow(addr, size);
  }

  store(addr: VAddr, size: number): void {
    this.l1dAcc++;
    this.stL1dAcc++;
    const off = addr - this.lastD;
    if (off >= 0 && off + size <= this.dLine) return;
    const m = this.dataSlow(addr, size);
    if (m >= 0) {
      this.stL1dMiss++;
      this.stL2Acc++;
      if (m >= 1) this.stL2Miss++;
      if (m >= 1 && this.llc) this.stLlcAcc++;
      if (m >= 2) this.stLlcMiss++;
    }
  }

  prefetch(addr: VAddr, kind: 'data' | 'code'): void {
    this.nPrefetch++;
    const k = this.kindOf(addr);
    if (k === KIND_UNMAPPED) return;
    const huge = k === KIND_2M;
    const pn = huge ? Math.floor(addr / TWO_MIB) : Math.floor(addr / 4096);
    const tlb = kind === 'code' ? this.itlb : this.dtlb;
    if (tlb.ref(pn, huge)) this.stlb.ref(pn, huge);
    const l1 = kind === 'code' ? this.l1i : this.l1d;
    if (l1.access(addr, 1) && this.l2.access(addr, 1) && this.llc) this.llc.access(addr, 1);
    if (kind === 'code') this.lastI = NaN;
    else this.lastD = NaN;
  }

  // ---- results --------------------------------------------------------------------------------

  stats(): HierarchyStats {
    const s = (accesses: number, misses: number): LevelStats => ({ accesses, misses });
    const hasLlc = this.llc !== null;
    return {
      insns: this.insns,
      cycles: this.insns * this.cfg.cycles.base + this.penalty,
      l1i: s(this.insns, this.l1iMiss),
      l1d: s(this.l1dAcc, this.l1dMiss),
      l2: s(this.l2Acc, this.l2Miss),
      llc: hasLlc ? s(this.llcAcc, this.llcMiss) : null,
      itlb: s(this.insns, this.itlbMiss),
      dtlb: s(this.l1dAcc, this.dtlbMiss),
      stlb: s(this.stlbAcc, this.stlbMiss),
      walks: this.stlbMiss,
      prefetches: this.nPrefetch,
      shootdowns: { pages: this.shotPages, full: this.shotFull },
      storeL1d: s(this.stL1dAcc, this.stL1dMiss),
      fetchL2: s(this.fL2Acc, this.fL2Miss),
      fetchLlc: hasLlc ? s(this.fLlcAcc, this.fLlcMiss) : null,
      storeL2: s(this.stL2Acc, this.stL2Miss),
      storeLlc: hasLlc ? s(this.stLlcAcc, this.stLlcMiss) : null,
    };
  }

  /** Zero every counter; cache and TLB contents stay (warm runs). */
  resetStats(): void {
    this.insns = this.penalty = 0;
    this.l1iMiss = this.l1dAcc = this.l1dMiss = this.stL1dAcc = this.stL1dMiss = 0;
    this.l2Acc = this.l2Miss = this.fL2Acc = this.fL2Miss = this.stL2Acc = this.stL2Miss = 0;
    this.llcAcc = this.llcMiss = this.fLlcAcc = this.fLlcMiss = this.stLlcAcc = this.stLlcMiss = 0;
    this.itlbMiss = this.dtlbMiss = this.stlbAcc = this.stlbMiss = 0;
    this.nPrefetch = 0;
    this.shotPages = this.shotFull = 0;
  }

  /** Empty every cache and TLB (cold runs); counters stay. */
  flush(): void {
    this.l1i.flush();
    this.l1d.flush();
    this.l2.flush();
    this.llc?.flush();
    this.itlb.flush();
    this.dtlb.flush();
    this.stlb.flush();
    this.lastI = NaN;
    this.lastD = NaN;
  }

  // ---- internals ------------------------------------------------------------------------------

  private shootdown(addr: VAddr, len: number): void {
    if (len <= 0) return;
    const first = Math.floor(addr / PAGE_BYTES);
    const last = Math.floor((addr + len - 1) / PAGE_BYTES);
    if (last - first + 1 > this.cfg.shootdown.ceilingPages) {
      this.itlb.flush();
      this.dtlb.flush();
      this.stlb.flush();
      this.shotFull++;
      return;
    }
    for (let pn = first; pn <= last; pn++) {
      this.itlb.invalidatePage(pn);
      this.dtlb.invalidatePage(pn);
      this.stlb.invalidatePage(pn);
    }
    this.shotPages += last - first + 1;
  }

  private fetchSlow(addr: VAddr, size: number): void {
    if (this.translate(this.itlb, addr, size)) this.itlbMiss++;
    if (this.l1i.access(addr, size)) {
      this.l1iMiss++;
      this.penalty += this.cfg.cycles.l1Miss;
      this.fL2Acc++;
      const m = this.lower(addr, size);
      if (m >= 1) this.fL2Miss++;
      if (m >= 1 && this.llc) this.fLlcAcc++;
      if (m >= 2) this.fLlcMiss++;
    }
    this.lastI = Math.floor((addr + size - 1) / this.iLine) * this.iLine;
  }

  /** L1d access (counted by the caller); returns -1 on an L1 hit, else how many levels below L1 missed (0, 1 or 2). */
  private dataSlow(addr: VAddr, size: number): number {
    if (this.translate(this.dtlb, addr, size)) this.dtlbMiss++;
    let m = -1;
    if (this.l1d.access(addr, size)) {
      this.l1dMiss++;
      this.penalty += this.cfg.cycles.l1Miss;
      m = this.lower(addr, size);
    }
    this.lastD = Math.floor((addr + size - 1) / this.dLine) * this.dLine;
    return m;
  }

  /** L2 (and LLC) lookup after an L1 miss: 0 = L2 hit, 1 = L2 miss, 2 = LLC miss too. */
  private lower(addr: VAddr, size: number): number {
    this.l2Acc++;
    if (!this.l2.access(addr, size)) return 0;
    this.l2Miss++;
    this.penalty += this.cfg.cycles.l2Miss;
    if (this.llc === null) return 1;
    this.llcAcc++;
    if (!this.llc.access(addr, size)) return 1;
    this.llcMiss++;
    this.penalty += this.cfg.cycles.llcMiss;
    return 2;
  }

  /** L1 TLB lookup of the page(s) of [addr, addr + size); true when any missed. */
  private translate(tlb: TlbLevel, addr: VAddr, size: number): boolean {
    let miss = this.tlbRef(tlb, addr);
    const end = addr + size - 1;
    if (Math.floor(end / 4096) !== Math.floor(addr / 4096)) {
      const k1 = this.kindOf(addr), k2 = this.kindOf(end);
      if (!(k1 === KIND_2M && k2 === KIND_2M && Math.floor(end / TWO_MIB) === Math.floor(addr / TWO_MIB))) {
        if (this.tlbRef(tlb, end)) miss = true;
      }
    }
    return miss;
  }

  private tlbRef(tlb: TlbLevel, addr: VAddr): boolean {
    const huge = this.kindOf(addr) === KIND_2M;
    const pn = huge ? Math.floor(addr / TWO_MIB) : Math.floor(addr / 4096);
    if (!tlb.ref(pn, huge)) return false;
    this.stlbAcc++;
    if (this.stlb.ref(pn, huge)) {
      this.stlbMiss++;
      this.penalty += this.cfg.cycles.walk;
    } else this.penalty += this.cfg.cycles.stlbHit;
    return true;
  }

  /** Page kind of addr from the page tables, cached per 4 KiB page number. */
  private kindOf(addr: VAddr): number {
    const vpn = Math.floor(addr / 4096);
    const i = vpn & (PAGE_CACHE - 1);
    if (this.pageTag[i] === vpn) return this.pageKind[i]!;
    const info = this.space.pageInfo(vpn * 4096);
    const k = info === null ? KIND_UNMAPPED : info.huge ? KIND_2M : KIND_4K;
    this.pageTag[i] = vpn;
    this.pageKind[i] = k;
    return k;
  }
}
