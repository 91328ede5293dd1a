// Tail calls for JIT'd programs (Linux BPF_MAP_TYPE_PROG_ARRAY + bpf_tail_call, helper id 12).
// The interpreter does not run tail calls, so this lives with the JIT.
//
// Invariants:
// - A ProgArray's object region is read-only to programs and laid out as the JIT's inline
//   sequence reads it: u32 max_entries at +0, then one u64 per slot at +8 + 8 * index holding the
//   target's tail-call landing address (JitProgram.tailCallEntry) or 0. Its region is registered
//   in PROG_ARRAY_REGIONS, so a tail call accepts only a real prog array's base as r2.
// - `withTailCalls(profile)` adds helper `tail_call` (kernel id 12); the JIT compiles calls to it
//   inline (codegen option tailCallHelper), so its host function never runs.

import { type VAddr, vaddrToPair } from '../../support/u64.js';
import { PROG_ARRAY_REGIONS } from './jit-host.js';
import type { JitProgram } from './jit.js';
import {
  type BpfAddressSpace, type BpfMapLike, BpfRuntimeError, type HelperProfile, type MemRegion, type RegionAllocator,
} from './runtime.js';

export const TAIL_CALL_HELPER_ID = 12;

export function withTailCalls(profile: HelperProfile, id = TAIL_CALL_HELPER_ID): HelperProfile {
  const helpers = new Map(profile.helpers);
  helpers.set(id, {
    name: 'tail_call',
    fn: () => {
      throw new BpfRuntimeError('bpf_tail_call runs inline in JIT code; the interpreter does not support it');
    },
  });
  return { name: `${profile.name}+tail_call`, helpers };
}

export class ProgArray implements BpfMapLike {
  readonly type = 'prog_array';
  readonly keySize = 4;
  readonly valueSize = 4;
  private region: MemRegion | null = null;
  private alloc: RegionAllocator | null = null;
  private readonly slots: (JitProgram | null)[];

  constructor(readonly name: string, readonly maxEntries: number, readonly fd = 100) {
    this.slots = new Array<JitProgram | null>(maxEntries).fill(null);
  }

  get objectAddr(): VAddr {
    if (!this.region) throw new BpfRuntimeError(`prog array "${this.name}" is not attached to a run`);
    return this.region.base;
  }

  valueAddr(): VAddr {
    throw new BpfRuntimeError(`prog array "${this.name}" has no direct value access`);
  }

  set(index: number, prog: JitProgram | null): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.maxEntries) throw new BpfRuntimeError(`prog array "${this.name}": index ${index} out of range`);
    this.slots[index] = prog;
    this.fill();
  }

  attach(space: BpfAddressSpace, alloc: RegionAllocator): void {
    if (alloc !== this.alloc || !this.region) {
      this.alloc = alloc;
      this.region = alloc.allocate(8 + 8 * this.maxEntries, `prog_array ${this.name}`, false, 'map-object');
      PROG_ARRAY_REGIONS.add(this.region);
    }
    this.fill();
    if (!space.regions().includes(this.region)) space.add(this.region);
  }

  private fill(): void {
    if (!this.region) return;
    const dv = new DataView(this.region.bytes.buffer, this.region.bytes.byteOffset, this.region.bytes.byteLength);
    dv.setUint32(0, this.maxEntries, true);
    this.slots.forEach((p, k) => {
      const a = p && !p.isFreed ? vaddrToPair(p.tailCallEntry) : { lo: 0, hi: 0 };
      dv.setUint32(8 + 8 * k, a.lo, true);
      dv.setUint32(12 + 8 * k, a.hi, true);
    });
  }
}
