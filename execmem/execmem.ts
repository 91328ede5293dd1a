// The execmem API (Linux mm/execmem.c, include/linux/execmem.h): typed consumers get memory from
// their range; code memory is read-only + executable from birth and filled with the arch trap.
//
// Invariants:
// - `alloc` never returns writable executable memory: code types come back ROX and trap-filled
//   (from the ROX cache where the range has ROX_CACHE, else vmalloc'ed RW, filled, then sealed
//   ROX, or mapped ROX at once when the range's pgprot is ROX); MODULE_DATA comes back RW+NX.
// - `allocRw` returns RW+NX memory (a cache block is flipped NX first, then RW) that the caller
//   must seal with `restoreRox`; the order never passes through W+X.
// - Sizes are page-rounded; placement is vmalloc's lowest first fit with a guard page, retried
//   once in the fallback window. Only exact allocation starts can be freed; a second free is a
//   DoubleFreeError, an unknown address a ForeignFreeError, and neither changes anything.
// - Non-cache areas carry VM_FLUSH_RESET_PERMS: freeing resets the direct-map alias to RW.

import { InvalidArgumentError, InvariantError } from '../support/errors.js';
import { type VAddr, hexAddr } from '../support/u64.js';
import { EXECMEM_ROX_CACHE, EXECMEM_TYPES, type ExecmemRange, type ExecmemType, isExecmemType } from './config.js';
import { DoubleFreeError, ExecmemExhaustedError, ForeignFreeError } from './errors.js';
import type { AddressSpace } from './space.js';
import { HUGE_PAGE_SIZE, PAGE_SIZE, PERM_ROX, PERM_RW, PERM_W, PERM_X } from './types.js';
import { checkAddress, checkLength, pageRound } from './validate.js';
import type { VmArea } from './vmap.js';

export interface ExecmemAllocation {
  addr: VAddr;
  /** Page-rounded size. */
  size: number;
  type: ExecmemType;
  source: 'vmalloc' | 'rox-cache';
  label: string;
  /** The vmalloc area (null for ROX-cache blocks, which live inside a cache area). */
  area: VmArea | null;
}

export interface AllocOptions {
  /** Map with 2 MiB leaves (VM_ALLOW_HUGE_VMAP); size must be a multiple of 2 MiB. */
  huge?: boolean;
  /** Shown in the memory map. */
  label?: string;
}

export class Execmem {
  private readonly space: AddressSpace;
  private readonly live = new Map<VAddr, ExecmemAllocation>();
  private readonly freed = new Set<VAddr>();

  constructor(space: AddressSpace) {
    this.space = space;
  }

  /** The range record of a type (name or `enum execmem_type` value 0..4). */
  range(type: ExecmemType | number): ExecmemRange {
    return this.space.config.ranges[this.typeName(type)];
  }

  typeName(type: ExecmemType | number): ExecmemType {
    if (typeof type === 'number' && Number.isInteger(type) && type >= 0 && type < EXECMEM_TYPES.length) {
      return EXECMEM_TYPES[type] as ExecmemType;
    }
    if (isExecmemType(type)) return type;
    throw new InvalidArgumentError(`unknown execmem type ${JSON.stringify(type)} (expected ${EXECMEM_TYPES.join(', ')})`, {
      type: String(type),
    });
  }

  /** execmem_is_rox(): the range is served by the ROX cache, so writers must poke or use _rw. */
  isRox(type: ExecmemType | number): boolean {
    return (this.range(type).flags & EXECMEM_ROX_CACHE) !== 0 && this.space.roxCache !== null;
  }

  private checkSize(r: ExecmemRange, size: number): number {
    checkLength(size, `execmem ${r.type} size`);
    const rounded = pageRound(size);
    const windowBytes = Math.max(r.end - r.start, r.fallbackEnd !== null && r.fallbackStart !== null ? r.fallbackEnd - r.fallbackStart : 0);
    if (rounded >= windowBytes) {
      throw new InvalidArgumentError(`execmem ${r.type} size ${size} does not fit its range (${windowBytes} bytes)`, { size, type: r.type });
    }
    return rounded;
  }

  windows(r: ExecmemRange): [VAddr, VAddr][] {
    const w: [VAddr, VAddr][] = [[r.start, r.end]];
    if (r.fallbackStart !== null && r.fallbackEnd !== null) w.push([r.fallbackStart, r.fallbackEnd]);
    return w;
  }

  /** execmem_alloc(type, size): ROX + trap-filled code memory (RW+NX for MODULE_DATA). */
  alloc(type: ExecmemType | number, size: number, opts: AllocOptions = {}): VAddr {
    const r = this.range(type);
    const rounded = this.checkSize(r, size);
    const huge = opts.huge === true;
    if (huge && rounded % HUGE_PAGE_SIZE !== 0) {
      throw new InvalidArgumentError(`huge execmem allocation must be a multiple of 2 MiB, got ${size}`, { size });
    }
    const label = opts.label ?? r.type;
    if (this.isRox(r.type)) {
      const addr = this.roxCacheAlloc(r, rounded);
      return this.record({ addr, size: rounded, type: r.type, source: 'rox-cache', label, area: null });
    }
    const code = r.type !== 'MODULE_DATA';
    const bornRox = code && (r.pgprot & PERM_X) !== 0;
    const area = this.map(r, rounded, label, bornRox ? PERM_ROX : PERM_RW, code ? 'trap' : 'zero', huge, `execmem_alloc(${r.type})`);
    if (code && !bornRox) this.space.setMemory(area.start, rounded / PAGE_SIZE, 'rox', `execmem_alloc(${r.type}): seal ROX`);
    return this.record({ addr: area.start, size: rounded, type: r.type, source: 'vmalloc', label, area });
  }

  /** execmem_alloc_rw(type, size): RW+NX memory to be sealed later with restoreRox. */
  allocRw(type: ExecmemType | number, size: number, opts: AllocOptions = {}): VAddr {
    const r = this.range(type);
    const rounded = this.checkSize(r, size);
    const label = opts.label ?? r.type;
    if (this.isRox(r.type)) {
      const addr = this.roxCacheAlloc(r, rounded);
      this.space.setMemory(addr, rounded / PAGE_SIZE, 'nx', `execmem_alloc_rw(${r.type}): force NX`);
      this.space.setMemory(addr, rounded / PAGE_SIZE, 'rw', `execmem_alloc_rw(${r.type}): force RW`);
      return this.record({ addr, size: rounded, type: r.type, source: 'rox-cache', label, area: null });
    }
    const area = this.map(r, rounded, label, PERM_RW, 'zero', false, `execmem_alloc_rw(${r.type})`);
    return this.record({ addr: area.start, size: rounded, type: r.type, source: 'vmalloc', label, area });
  }

  /** execmem_restore_rox(p, size): seal the page-rounded range [p, p+size) of an allocation ROX. */
  restoreRox(addr: VAddr, size: number): void {
    checkAddress(addr, 'execmem_restore_rox address');
    const a = this.live.get(addr);
    if (a === undefined) throw new InvalidArgumentError(`execmem_restore_rox: ${hexAddr(addr)} is not the start of a live allocation`, { address: hexAddr(addr) });
    checkLength(size, 'execmem_restore_rox size');
    const rounded = pageRound(size);
    if (rounded > a.size) {
      throw new InvalidArgumentError(`execmem_restore_rox: ${size} bytes exceed the ${a.size}-byte allocation at ${hexAddr(addr)}`, { address: hexAddr(addr), size });
    }
    if (a.type === 'MODULE_DATA') {
      throw new InvalidArgumentError(`execmem_restore_rox: MODULE_DATA at ${hexAddr(addr)} is never executable`, { address: hexAddr(addr) });
    }
    this.space.setMemory(addr, rounded / PAGE_SIZE, 'rox', `execmem_restore_rox(${a.type})`);
  }

  /** execmem_free(p): a cache block returns to the cache, anything else is vfreed. */
  free(addr: VAddr): void {
    checkAddress(addr, 'execmem_free address');
    const a = this.live.get(addr);
    if (a === undefined) {
      if (this.freed.has(addr)) throw new DoubleFreeError(addr, 'execmem allocation');
      throw new ForeignFreeError(addr, 'execmem allocation');
    }
    this.live.delete(addr);
    this.freed.add(addr);
    if (a.source === 'rox-cache') {
      if (!(this.space.roxCache as NonNullable<AddressSpace['roxCache']>).free(addr, a.size)) {
        throw new InvariantError(`execmem_free: ROX-cache block ${hexAddr(addr)} is not busy in the cache`);
      }
    } else this.space.unmapArea(a.area as VmArea, `execmem_free(${a.type})`);
  }

  /**
   * A VA-only reservation of `size` bytes in the type's range (nothing mapped, no frames): the
   * kernel uses these for MODULE_DATA; here they also let tests fill a range cheaply.
   */
  reserveVa(type: ExecmemType | number, size: number): VAddr {
    const r = this.range(type);
    const rounded = this.checkSize(r, size);
    for (const [lo, hi] of this.windows(r)) {
      const start = this.space.vmap.find(rounded + PAGE_SIZE, Math.max(r.alignment, PAGE_SIZE), lo, hi);
      if (start === null) continue;
      this.space.vmap.insert({ start, size: rounded, reserved: rounded + PAGE_SIZE, kind: 'reservation', label: `${r.type} reservation`, type: r.type, huge: false, flushResetPerms: false });
      return start;
    }
    throw new ExecmemExhaustedError(`execmem ${r.type}: no room to reserve ${size} bytes`, { size, type: r.type });
  }

  releaseVa(addr: VAddr): void {
    const area = this.space.vmap.containing(addr);
    if (area === null || area.start !== addr || area.kind !== 'reservation') throw new ForeignFreeError(addr, 'VA reservation');
    this.space.vmap.remove(area);
  }

  /** The live allocation starting at `addr`, or the one containing it. */
  allocationAt(addr: VAddr): ExecmemAllocation | null {
    const exact = this.live.get(addr);
    if (exact) return exact;
    for (const a of this.live.values()) if (addr >= a.addr && addr < a.addr + a.size) return a;
    return null;
  }

  allocations(): ExecmemAllocation[] {
    return [...this.live.values()].sort((x, y) => x.addr - y.addr);
  }

  /** Is the allocation writable right now (staged by allocRw and not yet sealed)? */
  isStaged(addr: VAddr): boolean {
    const pte = this.space.pte(addr);
    return pte !== undefined && (pte.perm & PERM_W) !== 0;
  }

  digest(): string {
    return this.allocations().map((a) => `${a.addr}+${a.size}:${a.type}:${a.source}`).join(',') + `|freed:${[...this.freed].join(',')}`;
  }

  private roxCacheAlloc(r: ExecmemRange, size: number): VAddr {
    return (this.space.roxCache as NonNullable<AddressSpace['roxCache']>).alloc(r, size);
  }

  private map(r: ExecmemRange, size: number, label: string, perm: number, fill: 'trap' | 'zero', huge: boolean, op: string): VmArea {
    const area = this.space.mapNewArea({
      size,
      align: r.alignment,
      windows: this.windows(r),
      kind: 'execmem',
      label,
      type: r.type,
      perm,
      huge,
      fill,
      flushResetPerms: true,
      op,
    });
    if (area === null) {
      throw new ExecmemExhaustedError(`execmem ${r.type}: no room for ${size} bytes in [${hexAddr(r.start)}, ${hexAddr(r.end)})${r.fallbackStart !== null ? ' or its fallback window' : ''}`, { size, type: r.type });
    }
    return area;
  }

  private record(a: ExecmemAllocation): VAddr {
    this.live.set(a.addr, a);
    this.freed.delete(a.addr);
    return a.addr;
  }
}
