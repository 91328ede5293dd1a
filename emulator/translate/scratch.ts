// Host-private bytes the translated code works in: the exit record, the register-file slots and the
// in-memory soft TLB, placed in the guest's own WebAssembly.Memory (AddressSpace.allocHostScratch:
// frames never mapped into any page table, hidden from the direct map) so translated code reaches
// registers, TLB and guest pages with plain loads and stores of one memory.
//
// Layout (byte offsets from the scratch base):
//   0    exit record: status, block, insn, branches, loads, stores, miss kind (i32 each), rem and
//        pc and miss address (i64)
//   256  register slots, 8 bytes each (types.ts MAX_SLOTS)
//   1024 read TLB, 4096 write TLB: 256 entries of 16 bytes: page tag (i64; 1 = empty, never a
//        page address), host byte offset of the page (i32)
// Invariants (as emulator/memory.ts): an entry exists only for a page whose current permission
// allows that access; the whole TLB is dropped on every mappingChanged of the space. One scratch
// area per address space, shared by every machine over it (entries depend only on the page
// tables; the exit record and slots are live only between entry to and exit from wasm, and JS
// never runs in between).

import { type GuestMemory, PERM_R, PERM_W } from '../../execmem/types.js';
import { isCanonicalPair, vaddrFromPair } from '../../support/u64.js';
import { MAX_SLOTS } from './types.js';

export const XR_STATUS = 0;
export const XR_BLOCK = 4;
export const XR_INSN = 8;
export const XR_BRANCHES = 12;
export const XR_LOADS = 16;
export const XR_STORES = 20;
export const XR_MISS_KIND = 24;
export const XR_REM = 32;
export const XR_PC = 40;
export const XR_MISS_ADDR = 48;
export const SLOTS_AT = 256;
export const TLB_READ_AT = 1024;
export const TLB_WRITE_AT = TLB_READ_AT + 4096;
export const SCRATCH_BYTES = TLB_WRITE_AT + 4096;
export const TLB_ENTRIES = 256;
export const TLB_ENTRY_BYTES = 16;
const EMPTY_TAG = 1;

/** Miss kinds recorded by a load/store that left translated code. */
export const MISS_NONE = 0;
export const MISS_READ = 1;
export const MISS_WRITE = 2;

if (SLOTS_AT + 8 * MAX_SLOTS > TLB_READ_AT) throw new RangeError('translate scratch layout: slots overlap the TLB');

export class Scratch {
  readonly space: GuestMemory;
  /** Byte offset of the scratch area in memory.buffer. */
  readonly base: number;
  private words: Int32Array;

  constructor(space: GuestMemory, base: number) {
    this.space = space;
    this.base = base;
    this.words = new Int32Array(space.memory.buffer);
    this.flushTlb();
    space.subscribe({
      mappingChanged: () => this.flushTlb(),
    });
  }

  /** Int32 view of the whole memory (re-made after growth detached the old buffer). */
  view(): Int32Array {
    if (this.words.length === 0) this.words = new Int32Array(this.space.memory.buffer);
    return this.words;
  }

  flushTlb(): void {
    const w = this.view();
    for (const at of [TLB_READ_AT, TLB_WRITE_AT]) {
      for (let i = 0; i < TLB_ENTRIES; i++) {
        const e = (this.base + at + i * TLB_ENTRY_BYTES) >> 2;
        w[e] = EMPTY_TAG;
        w[e + 1] = 0;
        w[e + 2] = 0;
      }
    }
  }

  /** Called by translated code on a tag miss: `fill`, 1 when the entry is now there. */
  readonly fillFromWasm = (lo: number, hi: number, kind: number): number => (this.fill(lo, hi, kind) ? 1 : 0);

  /** Enter the page of (lo, hi) into the read or write TLB when its permission allows. */
  fill(lo: number, hi: number, kind: number): boolean {
    if (!isCanonicalPair(lo, hi)) return false;
    const info = this.space.pageInfo(vaddrFromPair(lo & ~0xfff, hi));
    const need = kind === MISS_WRITE ? PERM_W : PERM_R;
    if (info === null || (info.perm & need) === 0) return false;
    const at = kind === MISS_WRITE ? TLB_WRITE_AT : TLB_READ_AT;
    const e = (this.base + at + ((lo >>> 12) & (TLB_ENTRIES - 1)) * TLB_ENTRY_BYTES) >> 2;
    const w = this.view();
    w[e] = lo & ~0xfff;
    w[e + 1] = hi;
    w[e + 2] = info.hostOffset;
    return true;
  }
}

const bySpace = new WeakMap<GuestMemory, Scratch | null>();

/** The space's scratch area (allocated on first use), or null when the space cannot provide one. */
export function scratchFor(space: GuestMemory): Scratch | null {
  let s = bySpace.get(space);
  if (s !== undefined) return s;
  s = typeof space.allocHostScratch === 'function' ? new Scratch(space, space.allocHostScratch(SCRATCH_BYTES)) : null;
  bySpace.set(space, s);
  return s;
}
