// The run-time side of the BPF JITs: one AddressSpace + emulator CPU hosting JIT'd programs, the
// memory they run on, and the kernel-text host functions their code calls.
//
// Invariants:
// - Program memory (stack, input, map objects and values) lives in one vmalloc'd RW+NX arena of the
//   AddressSpace, handed out by `ArenaRegionAllocator` with a fixed layout per run: stack zone,
//   data zone (maps), input zone. A fresh allocator gives the same addresses on every run, so map
//   addresses baked into code by lddw stay valid, and the interpreter run with the same allocator
//   sees the very same regions (identical addresses, identical faults).
// - The engines' region bytes (MemRegion.bytes) and guest memory are kept equal at every boundary:
//   copied into guest memory before the call, back after it, and around every helper call (helpers
//   work on MemRegion.bytes through BpfAddressSpace, exactly as under the interpreter).
// - The region tables the generated checkers walk (pairs [base, end), zero-terminated; all regions
//   for reads, writable ones for writes) are rewritten whenever the region set changes, and with
//   them the fast window (bpf:fast-window, two u64: base and base-count of the first writable
//   region in table order, see `fastWindow`): the inline check codegen emits before calling a
//   checker. The window is always one of the table's writable regions, so an access it accepts the
//   checkers accept too; code reloads it after every helper call (the only time regions change).
// - Helpers, callx, memory and call-depth faults are host functions at kernel-text addresses
//   (space.defineKernelSymbol); a fault finds its site from the return address at [rsp].

import { AddressSpace } from '../../execmem/space.js';
import { PAGE_SIZE } from '../../execmem/types.js';
import { createCpu, type Machine } from '../../emulator/index.js';
import { JitboxError } from '../../support/errors.js';
import { type U64, type VAddr, hexAddr, vaddrFromPair, vaddrToPair } from '../../support/u64.js';
import { SYM, type JitSite } from '../../codegen/bpf/common.js';
import { disasm } from './disasm.js';
import type { BpfInsn } from './isa.js';
import { BPF_MAX_CALL_DEPTH } from './isa.js';
import {
  type BpfAddressSpace, BpfMemoryFault, BpfRuntimeError, type HelperContext, type HelperDef, type HelperProfile,
  type MemRegion, type RegionAllocator, type RegionKind,
} from './runtime.js';
import { capstoneReady } from '../../support/capstone.js';

const ARENA_SIZE = 4 * 1024 * 1024;
const STACK_ZONE = 0;
const DATA_ZONE = 64 * 1024;
const INPUT_ZONE = 2 * 1024 * 1024;
const REGION_GAP = PAGE_SIZE;
const TABLE_ENTRIES = PAGE_SIZE / 16 - 1;

/**
 * Regions at fixed places of a host's arena. The data zone (maps, which keep their regions while
 * they are attached with the same allocator) grows for the allocator's lifetime; `resetRun()`
 * restarts the stack and input zones, so every run gets the same stack and input addresses.
 */
export class ArenaRegionAllocator implements RegionAllocator {
  private readonly next: Record<'stack' | 'data' | 'input', number>;
  constructor(private readonly base: VAddr) {
    this.next = { stack: STACK_ZONE, data: DATA_ZONE, input: INPUT_ZONE };
  }

  resetRun(): this {
    this.next.stack = STACK_ZONE;
    this.next.input = INPUT_ZONE;
    return this;
  }

  allocate(size: number, name: string, writable: boolean, kind: RegionKind = 'other'): MemRegion {
    const zone = kind === 'stack' ? 'stack' : kind === 'input' ? 'input' : 'data';
    const limit = zone === 'stack' ? DATA_ZONE : zone === 'data' ? INPUT_ZONE : ARENA_SIZE;
    if (!Number.isInteger(size) || size < 0) throw new BpfRuntimeError(`cannot allocate region "${name}" of ${size} bytes`, { name, size });
    const at = this.next[zone];
    const span = Math.ceil(Math.max(size, 1) / REGION_GAP) * REGION_GAP + REGION_GAP;
    if (at + span > limit) throw new BpfRuntimeError(`region "${name}" of ${size} bytes does not fit the JIT arena's ${zone} zone`, { name, size });
    this.next[zone] = at + span;
    return { name, base: this.base + at, bytes: new Uint8Array(size), writable, kind };
  }
}

/** Regions that hold prog arrays (jit-tailcall.ts): the only memory a tail call accepts as r2. */
export const PROG_ARRAY_REGIONS = new WeakSet<MemRegion>();

/** The helper returned 0 from an unwind helper: the program ends with r0 = 0. */
export class BpfUnwind extends JitboxError {
  constructor() {
    super('bpf-unwind', 'unwind helper returned 0');
  }
}

/** What the host functions need while a JIT'd program runs. */
export interface ActiveRun {
  profile: HelperProfile;
  memory: BpfAddressSpace;
  ctx: HelperContext;
}

export class BpfJitHost {
  readonly space: AddressSpace;
  readonly machine: Machine;
  readonly arena: VAddr;
  readonly readTable: VAddr;
  readonly writeTable: VAddr;
  readonly progArrayTable: VAddr;
  readonly fastWindowAddr: VAddr;
  private readonly symbols = new Map<string, VAddr>();
  private readonly helperSymbols = new Map<HelperDef, VAddr>();
  active: ActiveRun | null = null;
  /**
   * Call sites of every live program by its image address (tail calls cross programs), in
   * ascending return offsets as codegen records them; a fault finds its site by return address.
   */
  private readonly sites = new Map<VAddr, { sites: readonly JitSite[]; insns: readonly BpfInsn[] }>();

  addSites(image: VAddr, sites: readonly JitSite[], insns: readonly BpfInsn[]): void {
    for (let k = 1; k < sites.length; k++) {
      if ((sites[k] as JitSite).ret <= (sites[k - 1] as JitSite).ret) throw new BpfRuntimeError('JIT call sites are not in ascending order of return offset');
    }
    this.sites.set(image, { sites, insns });
  }

  removeSites(image: VAddr, sites: readonly JitSite[]): void {
    if (this.sites.get(image)?.sites === sites) this.sites.delete(image);
  }

  /** The live call site whose return address is `retAddr`. */
  private siteAt(retAddr: VAddr): { site: JitSite; insns: readonly BpfInsn[] } | null {
    for (const [image, p] of this.sites) {
      const off = retAddr - image;
      let lo = 0;
      let hi = p.sites.length - 1;
      while (lo <= hi) {
        const mid = (lo + hi) >>> 1;
        const r = (p.sites[mid] as JitSite).ret;
        if (r === off) return { site: p.sites[mid] as JitSite, insns: p.insns };
        if (r < off) lo = mid + 1;
        else hi = mid - 1;
      }
    }
    return null;
  }

  constructor(opts: { seed?: number; space?: AddressSpace; capstoneCheck?: boolean; arch?: 'x86_64' | 'arm64' } = {}) {
    this.space = opts.space ?? new AddressSpace({ arch: opts.arch ?? 'x86_64', seed: opts.seed ?? 1 });
    this.machine = createCpu(this.space.arch, this.space, { capstoneCheck: opts.capstoneCheck ?? capstoneReady() });
    this.arena = this.space.vmalloc(ARENA_SIZE, 'bpf jit arena');
    const lo = vaddrToPair(this.arena).lo;
    if (lo + ARENA_SIZE > 0x100000000) throw new BpfRuntimeError(`JIT arena at ${hexAddr(this.arena)} crosses a 4 GiB boundary`);
    const tables = this.space.vmalloc(3 * PAGE_SIZE, 'bpf region tables');
    this.readTable = tables;
    this.writeTable = tables + PAGE_SIZE;
    this.progArrayTable = tables + 2 * PAGE_SIZE;
    this.fastWindowAddr = this.space.vmalloc(PAGE_SIZE, 'bpf fast window');
    this.defineHost(SYM.memFault, 'bpf_jit_mem_fault', () => this.memFault());
    this.defineHost(SYM.depthFault, 'bpf_jit_depth_fault', () => this.depthFault());
    this.defineHost(SYM.callx, 'bpf_jit_callx', (args) => this.callx(args));
    this.symbols.set(SYM.regionsRead, this.readTable);
    this.symbols.set(SYM.regionsWrite, this.writeTable);
    this.symbols.set(SYM.regionsProgArray, this.progArrayTable);
    this.symbols.set(SYM.fastWindow, this.fastWindowAddr);
    this.symbols.set(SYM.stackLimit, this.arena + STACK_ZONE + 512);
  }

  /** Register holding the faulting address / callx target at a host function (x86 r11, arm64 x10). */
  private get scratch(): string {
    return this.space.arch === 'arm64' ? 'x10' : 'r11';
  }

  newAllocator(): ArenaRegionAllocator {
    return new ArenaRegionAllocator(this.arena);
  }

  /** Symbol addresses for codegen; helper symbols of `profile` are defined on first use. */
  resolver(profile: HelperProfile): (symbol: string) => VAddr | undefined {
    return (s) => {
      const fixed = this.symbols.get(s);
      if (fixed !== undefined) return fixed;
      const m = /^bpf:helper:(-?\d+)$/.exec(s);
      if (!m) return undefined;
      const h = profile.helpers.get(Number(m[1]));
      return h ? this.helperAddress(h) : undefined;
    };
  }

  private helperAddress(h: HelperDef): VAddr {
    const known = this.helperSymbols.get(h);
    if (known !== undefined) return known;
    const addr = this.defineHost(null, `bpf_helper_${h.name}_${this.helperSymbols.size}`, (args) => this.callHelper(h, args));
    this.helperSymbols.set(h, addr);
    return addr;
  }

  private defineHost(sym: string | null, name: string, fn: (args: U64[]) => U64 | number): VAddr {
    const addr = this.space.defineKernelSymbol(name, 16);
    this.machine.registerHostFunction(addr, name, (args) => fn(args));
    if (sym !== null) this.symbols.set(sym, addr);
    return addr;
  }

  private run(): ActiveRun {
    if (!this.active) throw new BpfRuntimeError('a JIT host function ran outside a JIT run');
    return this.active;
  }

  // ---- guest <-> engine memory -------------------------------------------------------------

  /** Copy every region into guest memory and rewrite the region tables. */
  pushRegions(memory: BpfAddressSpace): void {
    const regions = memory.regions();
    for (const r of regions) if (r.bytes.length > 0) this.space.write(r.base, r.bytes);
    // Checkers walk the table in order: input and map memory first, the stack (whose accesses the
    // verifier mostly proves) last.
    const rank = (r: MemRegion): number => (r.kind === 'input' ? 0 : r.kind === 'stack' ? 2 : 1);
    const read = regions.filter((r) => r.bytes.length > 0).sort((a, b) => rank(a) - rank(b));
    const write = read.filter((r) => r.writable);
    this.space.write(this.readTable, encodeTable(read));
    this.space.write(this.writeTable, encodeTable(write));
    this.space.write(this.fastWindowAddr, fastWindow(write[0]));
    // A prog array is accepted only at its exact base: its entry spans [base, base + 8).
    this.space.write(this.progArrayTable, encodeTable(regions.filter((r) => PROG_ARRAY_REGIONS.has(r)).map((r) => ({ ...r, bytes: r.bytes.subarray(0, 8) }))));
  }

  /** Copy every region's guest bytes back into its MemRegion. */
  pullRegions(memory: BpfAddressSpace): void {
    for (const r of memory.regions()) if (r.bytes.length > 0) r.bytes.set(this.space.read(r.base, r.bytes.length));
  }

  // ---- host functions ------------------------------------------------------------------------

  private callHelper(h: HelperDef, regs: U64[]): U64 {
    const run = this.run();
    this.pullRegions(run.memory);
    const args = new Int32Array(10);
    for (let k = 0; k < 5; k++) {
      const v = regs[k] as U64;
      args[2 * k] = v.lo | 0;
      args[2 * k + 1] = v.hi | 0;
    }
    const r = h.fn(run.ctx, args);
    this.pushRegions(run.memory);
    if (h.unwind && r.lo === 0 && r.hi === 0) throw new BpfUnwind();
    return r;
  }

  private site(): { run: ActiveRun; site: JitSite; insn: BpfInsn } {
    const run = this.run();
    let retAddr: VAddr;
    if (this.space.arch === 'arm64') {
      const lr = this.machine.registers().x30 as U64;
      retAddr = vaddrFromPair(lr.lo, lr.hi);
    } else {
      const rsp = this.machine.registers().rsp as U64;
      const ret = this.space.read(vaddrFromPair(rsp.lo, rsp.hi), 8);
      retAddr = vaddrFromPair(ret[0]! | (ret[1]! << 8) | (ret[2]! << 16) | (ret[3]! << 24), ret[4]! | (ret[5]! << 8) | (ret[6]! << 16) | (ret[7]! << 24));
    }
    const found = this.siteAt(retAddr);
    if (!found) throw new BpfRuntimeError(`JIT fault stub reached from an unknown site (return address ${hexAddr(retAddr)})`);
    return { run, site: found.site, insn: found.insns[found.site.insn] as BpfInsn };
  }

  private memFault(): never {
    const { run, site, insn } = this.site();
    const a = this.machine.registers()[this.scratch] as U64;
    if (site.kind === 'prog-array') {
      throw new BpfRuntimeError(`tail call at pc ${insn.slot} (${disasm(insn)}): r2 = ${hexAddr(vaddrFromPair(a.lo, a.hi))} is not a prog array`, { pc: insn.slot });
    }
    const write = site.kind === 'mem-write';
    const any = run.memory.find(a.lo, a.hi, site.len);
    const why = write && any !== null && !any.writable ? 'region is read-only' : 'outside every region';
    throw new BpfMemoryFault(insn.slot, disasm(insn), a.lo | 0, a.hi | 0, site.len, write ? 'write' : 'read', why);
  }

  private depthFault(): never {
    const { insn } = this.site();
    throw new BpfRuntimeError(`call depth limit of ${BPF_MAX_CALL_DEPTH} frames exceeded at pc ${insn.slot} (${disasm(insn)})`, { pc: insn.slot });
  }

  private callx(args: U64[]): U64 {
    const r11 = this.machine.registers()[this.scratch] as U64;
    const run = this.run();
    const h = r11.hi === 0 ? run.profile.helpers.get(r11.lo | 0) : undefined;
    if (!h) {
      const { insn } = this.site();
      throw new BpfRuntimeError(`callx at pc ${insn.slot}: r${insn.dst} = ${r11.lo >>> 0} is not a helper of profile "${run.profile.name}"`, { pc: insn.slot });
    }
    return this.callHelper(h, args);
  }
}

/**
 * The fast window of a run: [base, count] with count = max(0, size - 7), the number of addresses an
 * access of up to 8 bytes may start at. Generated code accepts `addr - base < count` (unsigned)
 * inline and calls the checker otherwise: accesses near the region's end and in every other region
 * take the checker, an empty window (no writable region) sends every access there.
 */
export function fastWindow(region: MemRegion | undefined): Uint8Array {
  const out = new Uint8Array(16);
  if (!region) return out;
  const dv = new DataView(out.buffer);
  const b = vaddrToPair(region.base);
  dv.setUint32(0, b.lo, true);
  dv.setUint32(4, b.hi, true);
  dv.setUint32(8, Math.max(0, region.bytes.length - 7), true);
  return out;
}

function encodeTable(regions: readonly MemRegion[]): Uint8Array {
  if (regions.length > TABLE_ENTRIES) throw new BpfRuntimeError(`too many regions for the JIT region table (${regions.length})`);
  const out = new Uint8Array((regions.length + 1) * 16);
  const dv = new DataView(out.buffer);
  regions.forEach((r, k) => {
    const b = vaddrToPair(r.base);
    const e = vaddrToPair(r.base + r.bytes.length);
    dv.setUint32(16 * k, b.lo, true);
    dv.setUint32(16 * k + 4, b.hi, true);
    dv.setUint32(16 * k + 8, e.lo, true);
    dv.setUint32(16 * k + 12, e.hi, true);
  });
  return out;
}
