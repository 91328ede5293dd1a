// L1 TLBs with per-page-size entry arrays and the shared second-level TLB.
//
// Modelled on Intel's Skylake L1 TLBs (separate 4 KiB and 2 MiB arrays, one STLB shared by
// instruction and data side for both sizes) and, with `entries2m: 0`, on the Cortex-A76 /
// Neoverse N1 L1 TLBs (one fully associative array holding every page size). Invariants:
// - A translation's tag is (page number x 2 + size bit): 4 KiB page n -> 2n, 2 MiB page m -> 2m + 1,
//   so one array can hold both sizes without aliasing; the set index is the page number itself.
// - A 2 MiB mapping (execmem PMD leaf) takes one entry for the whole 2 MiB, whichever 4 KiB page
//   inside it is touched.
// - LRU replacement in every array (LruArray); an L1 miss looks up the STLB and, on an STLB miss,
//   walks (counted by the model) and fills both.
// - `invalidatePage(pn4)` drops every translation covering 4 KiB page pn4, of either size (x86
//   INVLPG, arm64 TLBI VAAE1IS): the 4 KiB entry and the 2 MiB entry of its 2 MiB page.

import { LruArray } from './cache.js';
import type { TlbConfig } from './config.js';

export class TlbLevel {
  readonly small: LruArray;
  /** Null when 2 MiB translations share the 4 KiB array. */
  readonly large: LruArray | null;

  constructor(cfg: TlbConfig) {
    this.small = new LruArray(cfg.entries4k, cfg.ways4k);
    this.large = cfg.entries2m > 0 ? new LruArray(cfg.entries2m, cfg.ways2m) : null;
  }

  /** Reference the translation of page `pn` (4 KiB or 2 MiB page number); true on a miss. */
  ref(pn: number, huge: boolean): boolean {
    if (!huge) return this.small.ref(pn * 2, pn);
    return (this.large ?? this.small).ref(pn * 2 + 1, pn);
  }

  has(pn: number, huge: boolean): boolean {
    if (!huge) return this.small.has(pn * 2, pn);
    return (this.large ?? this.small).has(pn * 2 + 1, pn);
  }

  invalidatePage(pn4: number): void {
    const pm = Math.floor(pn4 / PAGES_PER_2M);
    this.small.invalidate(pn4 * 2, pn4);
    (this.large ?? this.small).invalidate(pm * 2 + 1, pm);
  }

  flush(): void {
    this.small.flush();
    this.large?.flush();
  }
}

const PAGES_PER_2M = 512;

/** The shared second-level TLB (both sides, both sizes). */
export class SharedTlb {
  readonly entries: LruArray;

  constructor(entries: number, ways: number) {
    this.entries = new LruArray(entries, ways);
  }

  ref(pn: number, huge: boolean): boolean {
    return this.entries.ref(pn * 2 + (huge ? 1 : 0), pn);
  }

  invalidatePage(pn4: number): void {
    const pm = Math.floor(pn4 / PAGES_PER_2M);
    this.entries.invalidate(pn4 * 2, pn4);
    this.entries.invalidate(pm * 2 + 1, pm);
  }

  flush(): void {
    this.entries.flush();
  }
}
