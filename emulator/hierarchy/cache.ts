// Set-associative true-LRU arrays, the one structure behind every cache and TLB of the model.
//
// Mirrors Cachegrind's cg_sim.c: bit-selection set index (tag & (sets - 1)), each set kept in
// recency order with the most recently used tag first, a hit moves its tag to the front, a miss
// shifts the set down one place (dropping the LRU tag) and inserts at the front. Tags are whole
// line (or page) numbers stored in a Float64Array (kernel addresses need more than 32 bits; an
// empty way holds NaN, which equals nothing). A `CacheLevel` adds Cachegrind's access rule: an
// access touching two lines references both (updating both) and is one access, missing when
// either line missed.

import type { CacheConfig } from './config.js';

export class LruArray {
  readonly sets: number;
  readonly ways: number;
  readonly setMask: number;
  readonly tags: Float64Array;

  constructor(entries: number, ways: number) {
    this.ways = ways;
    this.sets = entries / ways;
    this.setMask = this.sets - 1;
    this.tags = new Float64Array(entries).fill(NaN);
  }

  /** Reference `tag` in set `index & setMask`; true on a miss (the tag is then filled as MRU). */
  ref(tag: number, index: number): boolean {
    const t = this.tags;
    const w = this.ways;
    const base = (index & this.setMask) * w;
    if (t[base] === tag) return false;
    let i = 1;
    while (i < w && t[base + i] !== tag) i++;
    const miss = i === w;
    if (miss) i = w - 1;
    for (let j = base + i; j > base; j--) t[j] = t[j - 1]!;
    t[base] = tag;
    return miss;
  }

  /** True when `tag` is present (no recency update). */
  has(tag: number, index: number): boolean {
    const base = (index & this.setMask) * this.ways;
    for (let i = 0; i < this.ways; i++) if (this.tags[base + i] === tag) return true;
    return false;
  }

  /** Drop `tag` from set `index & setMask` if present (the ways after it move up one place). */
  invalidate(tag: number, index: number): void {
    const t = this.tags;
    const w = this.ways;
    const base = (index & this.setMask) * w;
    let i = 0;
    while (i < w && t[base + i] !== tag) i++;
    if (i === w) return;
    for (let j = base + i; j < base + w - 1; j++) t[j] = t[j + 1]!;
    t[base + w - 1] = NaN;
  }

  flush(): void {
    this.tags.fill(NaN);
  }
}

export class CacheLevel {
  readonly cfg: CacheConfig;
  readonly lines: LruArray;
  readonly lineBytes: number;
  private readonly inv: number;

  constructor(cfg: CacheConfig) {
    this.cfg = cfg;
    this.lineBytes = cfg.lineBytes;
    this.inv = 1 / cfg.lineBytes;
    this.lines = new LruArray(cfg.sizeBytes / cfg.lineBytes, cfg.ways);
  }

  /** Line number of a byte address (addresses are signed safe integers; exact for powers of two). */
  lineOf(addr: number): number {
    return Math.floor(addr * this.inv);
  }

  /** One access of `size` bytes at addr (size >= 1); true when any touched line missed. */
  access(addr: number, size: number): boolean {
    const first = Math.floor(addr * this.inv);
    const last = Math.floor((addr + size - 1) * this.inv);
    let miss = this.lines.ref(first, first);
    for (let l = first + 1; l <= last; l++) if (this.lines.ref(l, l)) miss = true;
    return miss;
  }

  /** True when the line holding addr is cached (no recency update). */
  contains(addr: number): boolean {
    const l = Math.floor(addr * this.inv);
    return this.lines.has(l, l);
  }

  flush(): void {
    this.lines.flush();
  }
}
