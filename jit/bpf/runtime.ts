// The execution environment shared by the BPF interpreter and (later) the JITs: memory regions at
// kernel-like addresses, the address space that checks every access against them, helper profiles
// and the hook through which lddw resolves map references.
//
// Invariants:
// - A program can touch only memory inside its regions (input memory, the stack, map values, map
//   objects); every load/store is checked (ubpf's interpreter bounds check; the kernel proves the same
//   statically). A store into a region with `writable: false` is a fault.
// - A region never crosses a 4 GiB boundary, so a (lo, hi) address pair is inside region R iff
//   hi === R.baseHi and (lo - R.baseLo) >>> 0 <= R.size - len. No BigInt anywhere on this path.
// - Regions are placed by a RegionAllocator. The default one hands out addresses like the kernel's
//   (direct map 0xffff8880_00000000 for data, vmalloc 0xffffc900_00000000 for stacks); the JIT
//   pipeline later passes one backed by execmem memory.
// - Helpers take r1..r5 as lo/hi pairs and return a lo/hi r0; they read/write program memory only
//   through `ctx.memory`, so the same checks apply.

import { JitboxError } from '../../support/errors.js';
import { type U64, type VAddr, hex64, hexAddr, vaddrFromPair, vaddrToPair } from '../../support/u64.js';
import type { BpfInsn } from './isa.js';

// ---- Regions ------------------------------------------------------------------------------------

export type RegionKind = 'input' | 'stack' | 'map-value' | 'map-object' | 'other';

export interface MemRegion {
  readonly name: string;
  readonly base: VAddr;
  readonly bytes: Uint8Array;
  readonly writable: boolean;
  readonly kind?: RegionKind;
}

export interface RegionAllocator {
  /** A new zero-filled region of `size` bytes (size >= 0), aligned to 8, never crossing 4 GiB. */
  allocate(size: number, name: string, writable: boolean, kind?: RegionKind): MemRegion;
}

/** Kernel-like layout: data in the direct map, stacks in vmalloc space, each with a guard gap. */
export const DIRECT_MAP_BASE: VAddr = vaddrFromPair(0x00000000, 0xffff8880);
export const VMALLOC_BASE: VAddr = vaddrFromPair(0x00000000, 0xffffc900);
const REGION_GAP = 0x1000;

export class DefaultRegionAllocator implements RegionAllocator {
  private nextData: VAddr = DIRECT_MAP_BASE + 0x100000;
  private nextStack: VAddr = VMALLOC_BASE + 0x10000;

  allocate(size: number, name: string, writable: boolean, kind: RegionKind = 'other'): MemRegion {
    if (!Number.isInteger(size) || size < 0 || size > 0x40000000) {
      throw new BpfRuntimeError(`cannot allocate region "${name}" of ${size} bytes`, { name, size });
    }
    const span = Math.ceil(Math.max(size, 1) / REGION_GAP) * REGION_GAP + REGION_GAP;
    const stack = kind === 'stack';
    let base = stack ? this.nextStack : this.nextData;
    const lo = base >>> 0;
    if (lo + span > 0x100000000) base += 0x100000000 - lo; // never cross a 4 GiB boundary
    if (stack) this.nextStack = base + span;
    else this.nextData = base + span;
    return { name, base, bytes: new Uint8Array(size), writable, kind };
  }
}

// ---- Errors -------------------------------------------------------------------------------------

export class BpfRuntimeError extends JitboxError {
  constructor(message: string, details: Record<string, string | number | boolean | null | undefined> = {}) {
    super('bpf-runtime', message, details);
  }
}

/**
 * A decoded program an engine refuses to load: jump outside the program, write to r10, unknown
 * helper id, call depth... (ubpf `validate()` and the kernel verifier's structural pass).
 */
export class BpfLoadError extends JitboxError {
  constructor(slot: number, insn: string, reason: string) {
    super('bpf-load', `cannot load BPF program: slot ${slot} (${insn}): ${reason}`, { slot, pc: slot, insn, reason });
  }
}

/** A load or store outside every region, or a store into a read-only region. */
export class BpfMemoryFault extends JitboxError {
  readonly pc: number;
  readonly address: string;
  constructor(pc: number, insn: string, lo: number, hi: number, len: number, access: 'read' | 'write', why: string) {
    super('bpf-memory-fault', `BPF memory fault at pc ${pc} (${insn}): ${access} of ${len} byte(s) at ${hex64(lo, hi)}: ${why}`, {
      pc,
      insn,
      address: hex64(lo, hi),
      len,
      access,
      reason: why,
    });
    this.pc = pc;
    this.address = hex64(lo, hi);
  }
}

/** The program ran more instructions than its budget (loops are bounded at run time). */
export class BpfBudgetExceeded extends JitboxError {
  constructor(budget: number, pc: number) {
    super('bpf-budget', `BPF instruction budget of ${budget} exceeded at pc ${pc}`, { budget, pc });
  }
}

// ---- Address space ------------------------------------------------------------------------------

interface RegionEntry {
  region: MemRegion;
  baseLo: number;
  baseHi: number;
  size: number;
}

/** The set of regions one run may touch; lookups by (lo, hi, len). */
export class BpfAddressSpace {
  private entries: RegionEntry[] = [];

  add(region: MemRegion): MemRegion {
    const { lo, hi } = vaddrToPair(region.base);
    if (lo + region.bytes.length > 0x100000000) {
      throw new BpfRuntimeError(`region "${region.name}" at ${hexAddr(region.base)} crosses a 4 GiB boundary`, { name: region.name });
    }
    for (const e of this.entries) {
      const aEnd = e.region.base + Math.max(e.size, 1);
      const bEnd = region.base + Math.max(region.bytes.length, 1);
      if (region.base < aEnd && e.region.base < bEnd) {
        throw new BpfRuntimeError(`region "${region.name}" overlaps region "${e.region.name}"`, { name: region.name, other: e.region.name });
      }
    }
    this.entries.push({ region, baseLo: lo, baseHi: hi | 0, size: region.bytes.length });
    return region;
  }

  remove(region: MemRegion): void {
    this.entries = this.entries.filter((e) => e.region !== region);
  }

  regions(): MemRegion[] {
    return this.entries.map((e) => e.region);
  }

  /** The region holding [addr, addr+len), or null. `hi` may be signed or unsigned. */
  find(lo: number, hi: number, len: number): MemRegion | null {
    const h = hi | 0;
    const l = lo >>> 0;
    for (const e of this.entries) {
      if (e.baseHi === h && ((l - e.baseLo) >>> 0) + len <= e.size && l >= e.baseLo) return e.region;
    }
    return null;
  }

  /** Checked view of program memory (used by helpers); 0 bytes are always readable. */
  read(lo: number, hi: number, len: number): Uint8Array {
    if (len === 0) return new Uint8Array(0);
    const r = this.find(lo, hi, len);
    if (!r) throw new BpfRuntimeError(`helper read of ${len} byte(s) at ${hex64(lo, hi)} outside program memory`, { address: hex64(lo, hi), len });
    const off = (lo >>> 0) - (vaddrToPair(r.base).lo >>> 0);
    return r.bytes.subarray(off, off + len);
  }

  /** Checked write into program memory (used by helpers). */
  write(lo: number, hi: number, data: Uint8Array): void {
    if (data.length === 0) return;
    const r = this.find(lo, hi, data.length);
    if (!r || !r.writable) {
      throw new BpfRuntimeError(`helper write of ${data.length} byte(s) at ${hex64(lo, hi)} outside writable program memory`, { address: hex64(lo, hi) });
    }
    const off = (lo >>> 0) - (vaddrToPair(r.base).lo >>> 0);
    r.bytes.set(data, off);
  }
}

// ---- Maps (implemented in maps.ts; the interpreter only needs this hook) ------------------------

/**
 * What lddw src 1/2/5/6 and the map helpers need from a map. `objectAddr` is the address lddw
 * src 1/5 yields (a region of kind 'map-object' the map registered); `valueAddr(off)` is what lddw
 * src 2/6 yields (direct value access, array maps): throws BpfRuntimeError if unsupported.
 */
export interface BpfMapLike {
  readonly name: string;
  readonly type: string;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  /** Linux-style file descriptor for lddw src 1/2 (PSEUDO_MAP_FD / PSEUDO_MAP_VALUE). */
  readonly fd: number;
  readonly objectAddr: VAddr;
  valueAddr(offset: number): VAddr;
  /** Place the map's regions (object, values) into a run's address space. Called once per run setup. */
  attach(space: BpfAddressSpace, alloc: RegionAllocator): void;
}

/** A program as the engines take it: decoded instructions plus its map table. */
export interface BpfProgram {
  readonly name: string;
  readonly insns: readonly BpfInsn[];
  /** lddw src 5/6 index into this table; src 1/2 look maps up by `fd`. */
  readonly maps?: readonly BpfMapLike[];
}

// ---- Helpers ------------------------------------------------------------------------------------

export interface HelperContext {
  readonly memory: BpfAddressSpace;
  readonly allocator: RegionAllocator;
  readonly program: BpfProgram;
  /** Maps of the program, for helpers that get a map object address in r1. */
  mapAt(lo: number, hi: number): BpfMapLike | null;
  /** Captured output lines (trace_printk). */
  readonly trace: string[];
  /** Free slot for a profile's per-run state (clock, prng...). */
  state: Map<string, unknown>;
}

/** The helper context of one run: program memory, its allocator, its maps by object address. */
export function makeHelperContext(memory: BpfAddressSpace, allocator: RegionAllocator, program: BpfProgram, maps: readonly BpfMapLike[]): HelperContext {
  return {
    memory,
    allocator,
    program,
    trace: [],
    state: new Map(),
    mapAt: (lo, hi) => {
      for (const m of maps) {
        const a = vaddrToPair(m.objectAddr);
        if (a.lo === lo >>> 0 && a.hi === hi >>> 0) return m;
      }
      return null;
    },
  };
}

/**
 * A helper: `args` holds r1..r5 as (lo, hi) pairs, args[2k] = lo of r(k+1), args[2k+1] = hi, both
 * as int32. Returns r0. Errors thrown must be JitboxErrors.
 */
export type HelperFn = (ctx: HelperContext, args: Int32Array) => U64;

export interface HelperDef {
  readonly name: string;
  readonly fn: HelperFn;
  /** The unwind helper (ubpf `ubpf_set_unwind_function_index`): a 0 result ends the program with r0 = 0. */
  readonly unwind?: boolean;
}

export interface HelperProfile {
  readonly name: string;
  readonly helpers: ReadonlyMap<number, HelperDef>;
}

// ---- Runs ---------------------------------------------------------------------------------------

export interface RunOptions {
  /** Input memory: copied into a writable region; r1 = its address, r2 = its length (0, 0 when absent). */
  mem?: Uint8Array;
  /** Explicit r1..r5 (overrides mem's r1/r2 when given). */
  args?: readonly U64[];
  profile?: HelperProfile;
  allocator?: RegionAllocator;
  /** Maximum instructions executed; default DEFAULT_BUDGET. */
  budget?: number;
}

export const DEFAULT_BUDGET = 100_000_000;

export interface RunResult {
  r0: U64;
  /** Instructions executed (an lddw counts once). */
  insns: number;
  /** 'exit' from the main function, or 'unwind' when the unwind helper returned 0. */
  exitedBy: 'exit' | 'unwind';
  trace: string[];
  /** The input region after the run (its bytes may have been written). */
  mem: Uint8Array;
}

export function u64ToHex(v: U64): string {
  return '0x' + (v.hi >>> 0 ? (v.hi >>> 0).toString(16) + (v.lo >>> 0).toString(16).padStart(8, '0') : (v.lo >>> 0).toString(16));
}
