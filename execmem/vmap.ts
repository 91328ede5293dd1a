// Virtual areas of the kernel address space: the vmalloc area allocator (mm/vmalloc.c,
// alloc_vmap_area) shared by execmem, the ROX cache, bpf_prog_pack, modules and plain vmalloc.
//
// Invariants:
// - Areas never overlap; each reserves `size` mapped bytes plus one unmapped guard page after
//   them (VM_NO_GUARD is never used), so `reserved = size + guard`.
// - Placement is the lowest address in [start, end) aligned to `align` where the whole reserved
//   span fits (`addr + reserved <= end`), as vmalloc's first fit does.
// - The list stays sorted by start; lookups are binary searches.

import type { VAddr } from '../support/u64.js';
import type { ExecmemType } from './config.js';
import { PAGE_SIZE } from './types.js';

export type AreaKind = 'kernel-image' | 'execmem' | 'rox-cache' | 'vmalloc' | 'reservation';

export interface VmArea {
  start: VAddr;
  /** Mapped bytes (a multiple of 4 KiB). */
  size: number;
  /** Mapped bytes plus the guard page. */
  reserved: number;
  kind: AreaKind;
  label: string;
  type: ExecmemType | null;
  /** Mapped with 2 MiB leaves. */
  huge: boolean;
  /** VM_FLUSH_RESET_PERMS: on free, reset the direct-map alias to RW+NX. */
  flushResetPerms: boolean;
}

function alignUp(a: number, align: number): number {
  return Math.ceil(a / align) * align;
}

export class VmapAllocator {
  private readonly areas: VmArea[] = [];

  list(): readonly VmArea[] {
    return this.areas;
  }

  /** Lowest aligned address in [start, end) where `reserved` bytes fit, or null. */
  find(reserved: number, align: number, start: VAddr, end: VAddr): VAddr | null {
    const a = Math.max(align, PAGE_SIZE);
    let cand = alignUp(start, a);
    let i = this.firstEndingAfter(cand);
    for (; i < this.areas.length; i++) {
      const area = this.areas[i] as VmArea;
      if (cand + reserved > end) return null;
      if (cand + reserved <= area.start) return cand;
      const areaEnd = area.start + area.reserved;
      if (areaEnd > cand) cand = alignUp(areaEnd, a);
    }
    return cand + reserved <= end ? cand : null;
  }

  insert(area: VmArea): void {
    const i = this.firstEndingAfter(area.start);
    this.areas.splice(i, 0, area);
  }

  remove(area: VmArea): void {
    const i = this.indexOfStart(area.start);
    if (i < 0 || this.areas[i] !== area) throw new Error('vmap: removing an unknown area');
    this.areas.splice(i, 1);
  }

  /** The area whose reserved span contains `addr`, or null. */
  containing(addr: VAddr): VmArea | null {
    const i = this.indexContaining(addr);
    return i < 0 ? null : (this.areas[i] as VmArea);
  }

  private indexContaining(addr: VAddr): number {
    let lo = 0;
    let hi = this.areas.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const a = this.areas[mid] as VmArea;
      if (addr < a.start) hi = mid - 1;
      else if (addr >= a.start + a.reserved) lo = mid + 1;
      else return mid;
    }
    return -1;
  }

  private indexOfStart(start: VAddr): number {
    const i = this.indexContaining(start);
    return i >= 0 && (this.areas[i] as VmArea).start === start ? i : -1;
  }

  /** Index of the first area whose reserved span ends after `addr`. */
  private firstEndingAfter(addr: VAddr): number {
    let lo = 0;
    let hi = this.areas.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const a = this.areas[mid] as VmArea;
      if (a.start + a.reserved <= addr) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
