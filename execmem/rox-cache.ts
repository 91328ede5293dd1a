// The x86_64 execmem ROX cache (mm/execmem.c, v6.13+; free path of ~v6.17): code memory carved out
// of 2 MiB ROX blocks so that module text, kprobes and ftrace (and BPF behind a flag) share large
// pages instead of splitting the direct map.
//
// Invariants (reference/execmem.md §2.2):
// - `free` is a coalesced, sorted interval set; `busy` maps block start -> size. Together with
//   the populated areas they partition every cache area exactly.
// - Alloc is first fit by ascending address over the free set with the block strictly inside the
//   main (or fallback) window (`addr + size < end`); the block comes off the low end.
// - A miss populates: vmalloc roundUp(size, 2 MiB) RW+NX on 2 MiB leaves (else exactly `size` on
//   4 KiB pages), trap fill while RW, seal ROX, merge into the free set, then allocate from it.
// - Free (v6.17): NX, then RW, fill with traps, reseal ROX, merge with the neighbours; then clean:
//   a free interval equal to a whole 2 MiB-aligned cache area gets its alias reset and is vfreed.
// - Cache memory is ROX and trap-filled whenever it is not handed out.

import { type VAddr } from '../support/u64.js';
import type { ExecmemRange } from './config.js';
import { ExecmemExhaustedError } from './errors.js';
import type { AddressSpace } from './space.js';
import { HUGE_PAGE_SIZE, PAGE_SIZE, PERM_RW } from './types.js';
import type { VmArea } from './vmap.js';

export interface Interval {
  start: VAddr;
  size: number;
}

export interface CacheAreaReport {
  start: VAddr;
  size: number;
  huge: boolean;
  busy: Interval[];
  free: Interval[];
}

export class RoxCache {
  private readonly space: AddressSpace;
  private readonly busy = new Map<VAddr, number>();
  /** Busy block starts, sorted (for containment lookups). */
  private busyStarts: VAddr[] = [];
  private freeSet: Interval[] = [];
  private readonly areas: VmArea[] = [];
  populated = 0;
  released = 0;

  constructor(space: AddressSpace) {
    this.space = space;
  }

  alloc(r: ExecmemRange, size: number): VAddr {
    let addr = this.firstFit(r, size);
    if (addr === null) {
      this.populate(r, size);
      addr = this.firstFit(r, size);
      if (addr === null) throw new ExecmemExhaustedError(`execmem cache: no room for ${size} bytes after populating`, { size });
    }
    this.take(addr, size);
    return addr;
  }

  /** Return a block; false when `addr` is not the start of a busy block (the caller vfrees). */
  free(addr: VAddr, size: number): boolean {
    const s = this.busy.get(addr);
    if (s === undefined || s !== size) return false;
    const pages = size / PAGE_SIZE;
    this.space.setMemory(addr, pages, 'nx', 'execmem cache free: NX');
    this.space.setMemory(addr, pages, 'rw', 'execmem cache free: RW');
    this.space.fillWritable(addr, size, 'trap', 'execmem cache free: trap fill');
    this.space.setMemory(addr, pages, 'rox', 'execmem cache free: reseal ROX');
    this.busy.delete(addr);
    this.busyStarts.splice(this.indexOfStart(addr), 1);
    this.insertMerging(addr, size);
    this.clean();
    return true;
  }

  /** The busy block containing `addr`, or null (free cache memory or not cache memory). */
  busyBlockContaining(addr: VAddr): Interval | null {
    let lo = 0;
    let hi = this.busyStarts.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const s = this.busyStarts[mid] as VAddr;
      const size = this.busy.get(s) as number;
      if (addr < s) hi = mid - 1;
      else if (addr >= s + size) lo = mid + 1;
      else return { start: s, size };
    }
    return null;
  }

  /** execmem_cache_clean(): release free intervals that are whole 2 MiB-aligned cache areas. */
  clean(): void {
    for (const iv of [...this.freeSet]) {
      if (iv.start % HUGE_PAGE_SIZE !== 0 || iv.size % HUGE_PAGE_SIZE !== 0) continue;
      const i = this.areas.findIndex((a) => a.start === iv.start && a.size === iv.size);
      if (i < 0) continue;
      const area = this.areas[i] as VmArea;
      this.areas.splice(i, 1);
      this.freeSet.splice(this.freeSet.indexOf(iv), 1);
      this.space.unmapArea(area, 'execmem cache clean: vfree');
      this.released++;
    }
  }

  report(): CacheAreaReport[] {
    return this.areas
      .map((a) => ({
        start: a.start,
        size: a.size,
        huge: a.huge,
        busy: [...this.busy].filter(([s]) => s >= a.start && s < a.start + a.size).map(([start, size]) => ({ start, size })).sort((x, y) => x.start - y.start),
        free: this.freeSet.filter((iv) => iv.start >= a.start && iv.start < a.start + a.size).map((iv) => ({ ...iv })),
      }))
      .sort((x, y) => x.start - y.start);
  }

  freeIntervals(): Interval[] {
    return this.freeSet.map((iv) => ({ ...iv }));
  }

  busyBlocks(): Interval[] {
    return this.busyStarts.map((start) => ({ start, size: this.busy.get(start) as number }));
  }

  cacheAreas(): readonly VmArea[] {
    return this.areas;
  }

  digest(): string {
    return `busy:${this.busyBlocks().map((b) => `${b.start}+${b.size}`).join(',')}|free:${this.freeSet.map((f) => `${f.start}+${f.size}`).join(',')}|areas:${this.areas.length}`;
  }

  private firstFit(r: ExecmemRange, size: number): VAddr | null {
    for (const iv of this.freeSet) {
      if (iv.size < size) continue;
      const a = iv.start;
      if (a >= r.start && a + size < r.end) return a;
      if (r.fallbackStart !== null && r.fallbackEnd !== null && a >= r.fallbackStart && a + size < r.fallbackEnd) return a;
    }
    return null;
  }

  private take(addr: VAddr, size: number): void {
    const i = this.freeSet.findIndex((iv) => iv.start === addr);
    const iv = this.freeSet[i] as Interval;
    if (iv.size === size) this.freeSet.splice(i, 1);
    else {
      iv.start += size;
      iv.size -= size;
    }
    this.busy.set(addr, size);
    this.busyStarts.splice(this.insertionIndex(addr), 0, addr);
  }

  private populate(r: ExecmemRange, size: number): void {
    const windows: [VAddr, VAddr][] = [[r.start, r.end]];
    if (r.fallbackStart !== null && r.fallbackEnd !== null) windows.push([r.fallbackStart, r.fallbackEnd]);
    const base = {
      align: r.alignment,
      windows,
      kind: 'rox-cache' as const,
      label: 'execmem ROX cache',
      type: r.type,
      perm: PERM_RW,
      fill: 'trap' as const,
      flushResetPerms: false,
      op: 'execmem cache populate',
    };
    const area =
      this.space.mapNewArea({ ...base, size: Math.ceil(size / HUGE_PAGE_SIZE) * HUGE_PAGE_SIZE, huge: true }) ??
      this.space.mapNewArea({ ...base, size, huge: false });
    if (area === null) throw new ExecmemExhaustedError(`execmem cache: no room to populate ${size} bytes in ${r.type}`, { size, type: r.type });
    this.space.setMemory(area.start, area.size / PAGE_SIZE, 'rox', 'execmem cache populate: seal ROX');
    this.areas.push(area);
    this.populated++;
    this.insertMerging(area.start, area.size);
  }

  private insertMerging(start: VAddr, size: number): void {
    let i = 0;
    while (i < this.freeSet.length && (this.freeSet[i] as Interval).start < start) i++;
    const prev = this.freeSet[i - 1];
    const next = this.freeSet[i];
    if (prev && prev.start + prev.size === start) {
      prev.size += size;
      if (next && prev.start + prev.size === next.start) {
        prev.size += next.size;
        this.freeSet.splice(i, 1);
      }
    } else if (next && start + size === next.start) {
      next.start = start;
      next.size += size;
    } else {
      this.freeSet.splice(i, 0, { start, size });
    }
  }

  private insertionIndex(addr: VAddr): number {
    let lo = 0;
    let hi = this.busyStarts.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((this.busyStarts[mid] as VAddr) < addr) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private indexOfStart(addr: VAddr): number {
    return this.insertionIndex(addr);
  }
}
