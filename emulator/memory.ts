// Guest memory access through execmem's page tables, with a software TLB in front.
//
// Modelled on QEMU's softmmu TLB (include/exec/cpu-defs.h): direct-mapped, indexed by the low bits
// of the virtual page number, one entry array per access kind (read, write, fetch), each entry
// holding the page tag (lo/hi of the page address) and the host byte offset of the page in
// `memory.buffer`. An entry exists only when the page table grants that kind of access, so a tag
// hit IS the permission check. Invariants:
// - Entries are filled only from `GuestMemory.pageInfo`, and the whole TLB is dropped on
//   `mappingChanged` (permission changes are rare; QEMU flushes too). `memoryGrown` only re-reads
//   `memory.buffer` (host offsets stay valid).
// - Addresses come as int32 pairs (lo, hi). A non-canonical address never hits (tags of empty
//   entries are the non-canonical hi 0x7fffffff) and faults in the slow path.
// - Page-crossing accesses take the slow path and check every byte's page: a store that straddles
//   into a read-only page faults before any byte is written.
// - With an access observer installed (the cache/TLB model) the fast path is disabled by never
//   filling the TLB, so the observer costs nothing when absent. Observed loads and stores use a
//   second pair of entry arrays (o*), filled and read only in the slow path, so the model does not
//   pay a page-table walk per access; they are dropped with the main TLB.
// - Loads return int32 (8/16-bit zero-extended); 64-bit loads return lo and leave hi in `hiOut`.

import { type Access, type GuestMemory, PageFault, PERM_R, PERM_W, PERM_X } from '../execmem/types.js';
import { type VAddr, isCanonicalPair, vaddrFromPair } from '../support/u64.js';

export const TLB_BITS = 8;
export const TLB_SIZE = 1 << TLB_BITS;
const TLB_MASK = TLB_SIZE - 1;
const EMPTY_HI = 0x7fffffff;

/** Observer of every guest access (fetches per executed instruction), for the cache/TLB model. */
export interface AccessObserver {
  fetch?(addr: VAddr, size: number): void;
  load?(addr: VAddr, size: number): void;
  store?(addr: VAddr, size: number): void;
  /** A software prefetch executed (x86 prefetcht0/t1/t2/nta, arm64 prfm PLD/PST: data; PLI: code). */
  prefetch?(addr: VAddr, kind: 'data' | 'code'): void;
}

/** A fault raised before the pc is known; the core attaches pc and instruction text. */
export function nonCanonicalFault(lo: number, hi: number, access: Access): PageFault {
  return new PageFault({ address: vaddrFromPair(lo, hi), access, perm: null }, 'non-canonical address');
}

export class GuestMemoryPort {
  readonly space: GuestMemory;
  mem: Uint8Array;
  dv: DataView;
  hiOut = 0;
  loads = 0;
  stores = 0;
  observer: AccessObserver | null = null;

  readonly rTagLo = new Int32Array(TLB_SIZE);
  readonly rTagHi = new Int32Array(TLB_SIZE).fill(EMPTY_HI);
  readonly rHost = new Int32Array(TLB_SIZE);
  readonly wTagLo = new Int32Array(TLB_SIZE);
  readonly wTagHi = new Int32Array(TLB_SIZE).fill(EMPTY_HI);
  readonly wHost = new Int32Array(TLB_SIZE);
  readonly xTagLo = new Int32Array(TLB_SIZE);
  readonly xTagHi = new Int32Array(TLB_SIZE).fill(EMPTY_HI);
  readonly xHost = new Int32Array(TLB_SIZE);
  private readonly orTagLo = new Int32Array(TLB_SIZE);
  private readonly orTagHi = new Int32Array(TLB_SIZE).fill(EMPTY_HI);
  private readonly orHost = new Int32Array(TLB_SIZE);
  private readonly owTagLo = new Int32Array(TLB_SIZE);
  private readonly owTagHi = new Int32Array(TLB_SIZE).fill(EMPTY_HI);
  private readonly owHost = new Int32Array(TLB_SIZE);

  constructor(space: GuestMemory) {
    this.space = space;
    this.mem = new Uint8Array(space.memory.buffer);
    this.dv = new DataView(space.memory.buffer);
  }

  refreshViews(): void {
    this.mem = new Uint8Array(this.space.memory.buffer);
    this.dv = new DataView(this.space.memory.buffer);
  }

  flushTlb(): void {
    this.rTagHi.fill(EMPTY_HI);
    this.wTagHi.fill(EMPTY_HI);
    this.xTagHi.fill(EMPTY_HI);
    this.orTagHi.fill(EMPTY_HI);
    this.owTagHi.fill(EMPTY_HI);
  }

  /**
   * Install or remove the access observer. Installing one drops the fast entries (they would bypass
   * it); removing one needs nothing (no fast entry is filled while it is installed).
   */
  setObserver(observer: AccessObserver | null): void {
    if (observer !== null && this.observer === null) {
      this.rTagHi.fill(EMPTY_HI);
      this.wTagHi.fill(EMPTY_HI);
      this.xTagHi.fill(EMPTY_HI);
    }
    this.observer = observer;
  }

  /** Host offset of a byte for `access`, filling the TLB; throws PageFault (no pc yet). */
  translateSlow(lo: number, hi: number, access: Access): number {
    lo |= 0;
    hi |= 0;
    if (!isCanonicalPair(lo, hi)) throw nonCanonicalFault(lo, hi, access);
    const addr = vaddrFromPair(lo, hi);
    const info = this.space.pageInfo(addr);
    const need = access === 'read' ? PERM_R : access === 'write' ? PERM_W : PERM_X;
    if (info === null || (info.perm & need) === 0) {
      throw new PageFault({ address: addr, access, perm: info === null ? null : info.perm });
    }
    if (this.observer === null) {
      const i = (lo >>> 12) & TLB_MASK;
      const tag = lo & ~0xfff;
      if (access === 'read') {
        this.rTagLo[i] = tag;
        this.rTagHi[i] = hi;
        this.rHost[i] = info.hostOffset;
      } else if (access === 'write') {
        this.wTagLo[i] = tag;
        this.wTagHi[i] = hi;
        this.wHost[i] = info.hostOffset;
      } else {
        this.xTagLo[i] = tag;
        this.xTagHi[i] = hi;
        this.xHost[i] = info.hostOffset;
      }
    } else if (access !== 'fetch') {
      const i = (lo >>> 12) & TLB_MASK;
      const tag = lo & ~0xfff;
      if (access === 'read') {
        this.orTagLo[i] = tag;
        this.orTagHi[i] = hi;
        this.orHost[i] = info.hostOffset;
      } else {
        this.owTagLo[i] = tag;
        this.owTagHi[i] = hi;
        this.owHost[i] = info.hostOffset;
      }
    }
    return info.hostOffset + (lo & 0xfff);
  }

  /** Host offset for a fetch of the byte at (lo, hi) (fast path, then slow). */
  fetchOffset(lo: number, hi: number): number {
    const i = (lo >>> 12) & TLB_MASK;
    if (this.xTagLo[i] === (lo & ~0xfff) && this.xTagHi[i] === hi) return this.xHost[i]! + (lo & 0xfff);
    return this.translateSlow(lo, hi, 'fetch');
  }

  private loadSlow(lo: number, hi: number, size: number): number {
    const obs = this.observer;
    if (obs !== null && (lo & 0xfff) <= 0x1000 - size) {
      const i = (lo >>> 12) & TLB_MASK;
      if (this.orTagLo[i] === (lo & ~0xfff) && this.orTagHi[i] === hi) {
        const o = this.orHost[i]! + (lo & 0xfff);
        this.loads++;
        if (obs.load) obs.load(vaddrFromPair(lo, hi), size);
        if (size === 1) return this.mem[o]!;
        if (size === 2) return this.dv.getUint16(o, true);
        if (size === 4) return this.dv.getInt32(o, true);
        this.hiOut = this.dv.getInt32(o + 4, true);
        return this.dv.getInt32(o, true);
      }
    }
    // Check every page first (a straddling load faults on the second page before returning).
    const offs: number[] = [];
    for (let k = 0; k < size; k++) {
      const l = (lo + k) | 0;
      const h = (hi + (l >>> 0 < lo >>> 0 ? 1 : 0)) | 0;
      if (k === 0 || (l & 0xfff) === 0) offs.push(this.translateSlow(l, h, 'read'));
      else offs.push((offs[k - 1] as number) + 1);
    }
    this.loads++;
    if (this.observer?.load) this.observer.load(vaddrFromPair(lo, hi), size);
    let vlo = 0;
    let vhi = 0;
    for (let k = 0; k < size; k++) {
      const b = this.mem[offs[k] as number] as number;
      if (k < 4) vlo |= b << (8 * k);
      else vhi |= b << (8 * (k - 4));
    }
    this.hiOut = vhi;
    return vlo;
  }

  private storeSlow(lo: number, hi: number, size: number, vlo: number, vhi: number): void {
    const obs = this.observer;
    if (obs !== null && (lo & 0xfff) <= 0x1000 - size) {
      const i = (lo >>> 12) & TLB_MASK;
      if (this.owTagLo[i] === (lo & ~0xfff) && this.owTagHi[i] === hi) {
        const o = this.owHost[i]! + (lo & 0xfff);
        this.stores++;
        if (obs.store) obs.store(vaddrFromPair(lo, hi), size);
        if (size === 1) this.mem[o] = vlo;
        else if (size === 2) this.dv.setUint16(o, vlo, true);
        else {
          this.dv.setInt32(o, vlo, true);
          if (size === 8) this.dv.setInt32(o + 4, vhi, true);
        }
        return;
      }
    }
    const offs: number[] = [];
    for (let k = 0; k < size; k++) {
      const l = (lo + k) | 0;
      const h = (hi + (l >>> 0 < lo >>> 0 ? 1 : 0)) | 0;
      if (k === 0 || (l & 0xfff) === 0) offs.push(this.translateSlow(l, h, 'write'));
      else offs.push((offs[k - 1] as number) + 1);
    }
    this.stores++;
    if (this.observer?.store) this.observer.store(vaddrFromPair(lo, hi), size);
    for (let k = 0; k < size; k++) {
      this.mem[offs[k] as number] = k < 4 ? vlo >>> (8 * k) : vhi >>> (8 * (k - 4));
    }
  }

  ld8(lo: number, hi: number): number {
    const i = (lo >>> 12) & TLB_MASK;
    if (this.rTagLo[i] === (lo & ~0xfff) && this.rTagHi[i] === hi) {
      this.loads++;
      return this.mem[this.rHost[i]! + (lo & 0xfff)]!;
    }
    return this.loadSlow(lo, hi, 1);
  }

  ld16(lo: number, hi: number): number {
    const i = (lo >>> 12) & TLB_MASK;
    if (this.rTagLo[i] === (lo & ~0xfff) && this.rTagHi[i] === hi && (lo & 0xfff) <= 0xffe) {
      this.loads++;
      return this.dv.getUint16(this.rHost[i]! + (lo & 0xfff), true);
    }
    return this.loadSlow(lo, hi, 2);
  }

  ld32(lo: number, hi: number): number {
    const i = (lo >>> 12) & TLB_MASK;
    if (this.rTagLo[i] === (lo & ~0xfff) && this.rTagHi[i] === hi && (lo & 0xfff) <= 0xffc) {
      this.loads++;
      return this.dv.getInt32(this.rHost[i]! + (lo & 0xfff), true);
    }
    return this.loadSlow(lo, hi, 4);
  }

  /** 64-bit load: returns lo, hi in `hiOut`. */
  ld64(lo: number, hi: number): number {
    const i = (lo >>> 12) & TLB_MASK;
    if (this.rTagLo[i] === (lo & ~0xfff) && this.rTagHi[i] === hi && (lo & 0xfff) <= 0xff8) {
      this.loads++;
      const o = this.rHost[i]! + (lo & 0xfff);
      this.hiOut = this.dv.getInt32(o + 4, true);
      return this.dv.getInt32(o, true);
    }
    return this.loadSlow(lo, hi, 8);
  }

  st8(lo: number, hi: number, v: number): void {
    const i = (lo >>> 12) & TLB_MASK;
    if (this.wTagLo[i] === (lo & ~0xfff) && this.wTagHi[i] === hi) {
      this.stores++;
      this.mem[this.wHost[i]! + (lo & 0xfff)] = v;
      return;
    }
    this.storeSlow(lo, hi, 1, v, 0);
  }

  st16(lo: number, hi: number, v: number): void {
    const i = (lo >>> 12) & TLB_MASK;
    if (this.wTagLo[i] === (lo & ~0xfff) && this.wTagHi[i] === hi && (lo & 0xfff) <= 0xffe) {
      this.stores++;
      this.dv.setUint16(this.wHost[i]! + (lo & 0xfff), v, true);
      return;
    }
    this.storeSlow(lo, hi, 2, v, 0);
  }

  st32(lo: number, hi: number, v: number): void {
    const i = (lo >>> 12) & TLB_MASK;
    if (this.wTagLo[i] === (lo & ~0xfff) && this.wTagHi[i] === hi && (lo & 0xfff) <= 0xffc) {
      this.stores++;
      this.dv.setInt32(this.wHost[i]! + (lo & 0xfff), v, true);
      return;
    }
    this.storeSlow(lo, hi, 4, v, 0);
  }

  st64(lo: number, hi: number, vlo: number, vhi: number): void {
    const i = (lo >>> 12) & TLB_MASK;
    if (this.wTagLo[i] === (lo & ~0xfff) && this.wTagHi[i] === hi && (lo & 0xfff) <= 0xff8) {
      this.stores++;
      const o = this.wHost[i]! + (lo & 0xfff);
      this.dv.setInt32(o, vlo, true);
      this.dv.setInt32(o + 4, vhi, true);
      return;
    }
    this.storeSlow(lo, hi, 8, vlo, vhi);
  }

  /** Check that a store of `size` bytes would succeed, without writing (read-modify-write ops). */
  probeWrite(lo: number, hi: number, size: number): void {
    this.translateSlow(lo, hi, 'write');
    const endLo = (lo + size - 1) | 0;
    if ((endLo & ~0xfff) !== (lo & ~0xfff)) this.translateSlow(endLo, (hi + (endLo >>> 0 < lo >>> 0 ? 1 : 0)) | 0, 'write');
  }
}
