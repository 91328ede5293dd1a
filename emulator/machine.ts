// The arch-neutral half of a CPU core: guest memory port (soft TLB), the Capstone-checked decode
// cache, calls into guest code with a stack and a sentinel return address, host functions,
// instruction budget, counters, tracing and the access-observer hook. emulator/x86_64 and
// emulator/arm64 subclass `Machine` and supply decode, render and execute.
//
// Invariants:
// - Every fetch goes through the page tables with execute permission (checked when the block is
//   decoded; blocks are dropped when their pages change, see decode-cache.ts), every load/store
//   through GuestMemoryPort with read/write permission. No byte of guest memory is read any other way.
// - Each instruction entering the cache is decoded by Capstone too (unless the machine was built
//   with `capstoneCheck: false`, which only benchmarks that say so do): same length, and the same
//   normalised text as our own rendering of our decoding, else DecoderMismatchError. Bytes Capstone
//   knows and we do not: UnsupportedInstructionError; bytes nobody decodes: InvalidInstructionError.
//   arm64: an instruction whose line is stale in the modelled I-cache raises StaleIcacheFault.
// - Decoding runs ahead of execution only within a page, and a decode failure of any instruction
//   but a block's first ends the block before it, so a fault is raised exactly when (and if) the
//   faulting instruction would execute.
// - A call ends when control reaches SENTINEL_RETURN (pushed as the return address on x86, put in
//   x30 on arm64). Control reaching a registered host-function address runs the TypeScript function
//   and returns to the caller as a `ret` would.
// - Faults carry the guest pc and the instruction's text; a fault in the guard page below the
//   stack says "guest stack overflow".

import { type Arch, type GuestMemory, PageFault, StaleIcacheFault } from '../execmem/types.js';
import { AddressSpace } from '../execmem/space.js';
import { bytesToHex, hexAddr, isCanonical, type U64, type VAddr, vaddrToPair, bigIntToPair } from '../support/u64.js';
import { capstoneReady, CapstoneNotReadyError, disasmOne, normaliseAsm } from '../support/capstone.js';
import { InvalidArgumentError, isJitboxError, JitboxError } from '../support/errors.js';
import { DecodeCache, MAX_BLOCK_INSNS, R_INFO, REC_WORDS } from './decode-cache.js';
import { DecoderMismatchError, HostFunctionError, InvalidInstructionError, UnsupportedInstructionError } from './errors.js';
import { type AccessObserver, GuestMemoryPort } from './memory.js';
import { defaultTier, HOT_THRESHOLD, isTier, type TierStats, TranslationTier } from './translate/tier.js';
import type { ArchTranslator, Tier } from './translate/types.js';
import { translatorFor } from './translate/registry.js';

export { type AccessObserver } from './memory.js';

/** Return address that ends a call (0xfffffffffffff000: canonical, never mapped by execmem). */
export const SENTINEL_RETURN: VAddr = -4096;
export const DEFAULT_BUDGET = 100_000_000;
export const DEFAULT_STACK_SIZE = 16 * 1024;

/** decodeInsn results other than a length. */
export const DECODE_TRUNCATED = -1;
export const DECODE_UNKNOWN = 0;

export interface Counters {
  insns: number;
  loads: number;
  stores: number;
  branches: number;
}

export interface TraceEvent {
  pc: VAddr;
  /** Capstone's text of the instruction (our rendering when the check is off and Capstone absent). */
  text: string;
  bytes: Uint8Array;
}

/** A guest stack: [base, base + size) mapped RW and non-executable; the page below is a guard. */
export interface StackRegion {
  base: VAddr;
  size: number;
}

export type CallArg = number | bigint | U64;

export interface CallOptions {
  /** Maximum instructions before BudgetExceededError (default 1e8). */
  budget?: number;
  /** Stack to use for this call (default: the machine's stack). */
  stack?: StackRegion;
  /** Size of the stack the machine allocates (vmalloc, RW+NX) when it has none (default 16 KiB). */
  stackSize?: number;
  trace?: (e: TraceEvent) => void;
  /** Cache/TLB model hook; disables the TLB fast path for the call. */
  observer?: AccessObserver;
  /** Initial values of other registers by name (applied after the arguments; sp excluded). */
  regs?: Readonly<Record<string, CallArg>>;
  /** Initial flags: x86 RFLAGS arithmetic bits (CF PF AF ZF SF OF), arm64 NZCV in bits 31-28. */
  flags?: number;
  /**
   * Execution tier for this call (default: the machine's): 'interp' interprets only, 'translate'
   * translates every block on first dispatch, 'auto' translates hot blocks. Results never depend
   * on it; with `observer` or `trace` the call is interpreted.
   */
  tier?: Tier;
}

export interface CallResult {
  ret: U64;
  regs: Record<string, U64>;
  counters: Counters;
}

/** Host function: gets the argument registers (SysV / AAPCS64 order), returns the result. */
export type HostFunction = (args: U64[], machine: Machine) => U64 | number | bigint | void;

export interface MachineOptions {
  /** Check every decoded instruction against Capstone (default true). */
  capstoneCheck?: boolean;
  /** Stack used by `call` when the call gives none. */
  stack?: StackRegion;
  /** Default tier of calls (default: env JITBOX_TIER, else 'auto'); see CallOptions.tier. */
  tier?: Tier;
}

interface HostEntry {
  addr: VAddr;
  name: string;
  fn: HostFunction;
}

export function toPair(v: CallArg): U64 {
  if (typeof v === 'bigint') return bigIntToPair(v);
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) throw new InvalidArgumentError(`argument ${v} is not a safe integer (pass a bigint or a {lo, hi} pair)`);
    return bigIntToPair(BigInt(v));
  }
  return { lo: v.lo >>> 0, hi: v.hi >>> 0 };
}

export abstract class Machine {
  abstract readonly arch: Arch;
  /** Register names in the order `registers()` lists them. */
  abstract readonly regNames: readonly string[];
  /** Longest instruction in bytes (x86 15, arm64 4). */
  protected abstract readonly maxInsnBytes: number;

  readonly space: GuestMemory;
  readonly port: GuestMemoryPort;
  readonly cache = new DecodeCache();
  readonly capstoneCheck: boolean;
  stack: StackRegion | null;

  insns = 0;
  branches = 0;
  budget = DEFAULT_BUDGET;
  /** 1 while tracing (blocks of one instruction), else MAX_BLOCK_INSNS. */
  protected blockLimit = MAX_BLOCK_INSNS;
  protected tracer: ((e: TraceEvent) => void) | null = null;
  protected readonly hostByAddr = new Map<number, number>();
  protected readonly hosts: HostEntry[] = [];
  hostRetLo = 0;
  hostRetHi = 0;
  private readonly unsubscribe: () => void;
  private fillBuf = new Uint8Array(16);
  /** Default tier of this machine's calls. */
  tier: Tier;
  /** The translation tier active in the current call (null: interpret). */
  protected tx: TranslationTier | null = null;
  private txTier: TranslationTier | null | undefined;

  constructor(space: GuestMemory, opts: MachineOptions = {}) {
    this.space = space;
    this.port = new GuestMemoryPort(space);
    this.capstoneCheck = opts.capstoneCheck ?? true;
    this.stack = opts.stack ?? null;
    this.tier = checkedTier(opts.tier ?? defaultTier());
    this.unsubscribe = space.subscribe({
      codeWritten: (addr, len) => {
        this.cache.invalidateRange(addr, len);
      },
      mappingChanged: (addr, len) => {
        this.port.flushTlb();
        this.cache.invalidateRange(addr, len);
      },
      memoryGrown: () => this.port.refreshViews(),
    });
  }

  /** Stop listening to the address space (the machine must not run afterwards). */
  dispose(): void {
    this.unsubscribe();
    this.txTier?.dispose();
  }

  /** The architecture's translator for the translation tier (null: this core has none). */
  protected makeTranslator(): ArchTranslator | null {
    return translatorFor(this.arch);
  }

  /** Counters of the translation tier (null before its first use). */
  translationStats(): TierStats | null {
    return this.txTier ? { ...this.txTier.stats } : null;
  }

  /** The translation tier for a call with this tier and hooks, or null to interpret. */
  private tierForCall(tier: Tier, hooked: boolean): TranslationTier | null {
    if (tier === 'interp' || hooked) return null;
    if (this.txTier === undefined) {
      const tr = this.makeTranslator();
      this.txTier = tr ? new TranslationTier(this, tr) : null;
    }
    if (this.txTier) this.txTier.threshold = tier === 'translate' ? 1 : HOT_THRESHOLD;
    return this.txTier;
  }

  // ---- per-arch hooks ------------------------------------------------------------------------

  /**
   * Decode one instruction from bytes[0..avail) at pc into recs[at..at+REC_WORDS). Returns its
   * length, DECODE_TRUNCATED when more bytes are needed, DECODE_UNKNOWN when not implemented.
   * Must set R_INFO bits 0-15 (length and arch bits); bits 16-31 are set by the cache.
   */
  protected abstract decodeInsn(bytes: Uint8Array, avail: number, pc: VAddr, recs: Int32Array, at: number): number;
  /** Our own assembly text of a decoded record (same syntax as Capstone before normalisation). */
  abstract renderInsn(recs: Int32Array, at: number, pc: VAddr): string;
  /** True when the instruction ends a basic block (branches, calls, returns, traps). */
  protected abstract endsBlock(recs: Int32Array, at: number): boolean;
  /** Set argument registers, stack pointer and the sentinel return address. */
  protected abstract setupCall(args: U64[], stackTop: VAddr): void;
  /** Run from pc until the sentinel is reached (throws faults with context). */
  protected abstract execute(pc: VAddr): void;
  abstract returnValue(): U64;
  abstract registers(): Record<string, U64>;
  /** Argument registers as pairs (for host functions). */
  protected abstract argRegs(): U64[];

  /**
   * Optional pass over a freshly decoded block (records [first, first + n)), e.g. dead-flag
   * elimination. Must keep semantics; runs once per fill.
   */
  protected finishBlock(_recs: Int32Array, _first: number, _n: number): void {}

  /** Set a general register by name (not the stack pointer). */
  setRegister(name: string, _v: U64): void {
    throw new InvalidArgumentError(`${this.arch}: cannot set register "${name}"`);
  }

  /** Set the flags (see CallOptions.flags). */
  setFlagBits(_flags: number): void {
    throw new InvalidArgumentError(`${this.arch}: setting flags is not supported`);
  }

  // ---- calls ---------------------------------------------------------------------------------

  call(entry: VAddr, args: readonly CallArg[] = [], opts: CallOptions = {}): CallResult {
    if (!isCanonical(entry)) throw new InvalidArgumentError(`entry ${entry} is not a canonical address`);
    const stack = opts.stack ?? this.ensureStack(opts.stackSize ?? DEFAULT_STACK_SIZE);
    const budget = opts.budget ?? DEFAULT_BUDGET;
    if (!Number.isSafeInteger(budget) || budget <= 0) throw new InvalidArgumentError(`budget must be a positive integer, got ${budget}`);
    if (this.capstoneCheck && !capstoneReady()) throw new CapstoneNotReadyError();
    const tier = checkedTier(opts.tier ?? this.tier);
    const pairs = args.map(toPair);
    const wantLimit = opts.trace ? 1 : MAX_BLOCK_INSNS;
    if (wantLimit !== this.blockLimit) {
      this.cache.flush();
      this.blockLimit = wantLimit;
    }
    this.tracer = opts.trace ?? null;
    this.insns = 0;
    this.branches = 0;
    this.port.loads = 0;
    this.port.stores = 0;
    this.budget = budget;
    const prevStack = this.stack;
    this.stack = stack;
    const observer = opts.observer ?? null;
    try {
      // The x86 return-address push is the caller's store: never observed, on every call alike.
      this.port.setObserver(null);
      this.setupCall(pairs, stack.base + stack.size);
      for (const [name, v] of Object.entries(opts.regs ?? {})) this.setRegister(name, toPair(v));
      if (opts.flags !== undefined) this.setFlagBits(opts.flags);
      this.port.loads = 0;
      this.port.stores = 0;
      this.port.setObserver(observer);
      this.tx = this.tierForCall(tier, observer !== null || this.tracer !== null);
      this.execute(entry);
    } finally {
      this.stack = prevStack ?? stack;
    }
    return { ret: this.returnValue(), regs: this.registers(), counters: this.counters() };
  }

  /**
   * The machine's stack, allocated on first use with vmalloc (PAGE_KERNEL: RW, NX) when the space is
   * execmem's AddressSpace. vmap areas keep an unmapped guard page after each area, so the page
   * below the stack is never mapped.
   */
  ensureStack(size: number): StackRegion {
    if (this.stack && this.stack.size >= size) return this.stack;
    if (!Number.isSafeInteger(size) || size < 4096 || size % 4096 !== 0) {
      throw new InvalidArgumentError(`stack size must be a positive multiple of 4096, got ${size}`);
    }
    if (!(this.space instanceof AddressSpace)) {
      throw new InvalidArgumentError('no guest stack: pass options.stack (this address space cannot allocate one)');
    }
    this.stack = { base: this.space.vmalloc(size, 'emulator stack'), size };
    return this.stack;
  }

  counters(): Counters {
    return { insns: this.insns, loads: this.port.loads, stores: this.port.stores, branches: this.branches };
  }

  // ---- host functions ------------------------------------------------------------------------

  registerHostFunction(addr: VAddr, name: string, fn: HostFunction): void {
    if (!isCanonical(addr) || addr === SENTINEL_RETURN) throw new InvalidArgumentError(`host function ${name}: bad address ${addr}`);
    const info = this.space.pageInfo(addr);
    if (info !== null && (info.perm & 4) === 0) {
      throw new InvalidArgumentError(`host function ${name} at ${hexAddr(addr)}: page is mapped but not executable (use kernel text)`);
    }
    if (this.hostByAddr.has(addr)) throw new InvalidArgumentError(`host function already registered at ${hexAddr(addr)}`);
    this.hostByAddr.set(addr, this.hosts.length);
    this.hosts.push({ addr, name, fn });
  }

  /** Run host function k with the current argument registers; result in hostRetLo/Hi. */
  protected runHost(k: number): void {
    const h = this.hosts[k]!;
    let r: U64 | number | bigint | void;
    try {
      r = h.fn(this.argRegs(), this);
    } catch (e) {
      if (isJitboxError(e)) throw e;
      throw new HostFunctionError(h.name, h.addr, e instanceof Error ? e.message : String(e));
    }
    let p: U64;
    if (r === undefined) p = { lo: 0, hi: 0 };
    else if (typeof r === 'number' && !Number.isSafeInteger(r)) throw new HostFunctionError(h.name, h.addr, `returned ${r}, not an integer`);
    else p = toPair(r);
    this.hostRetLo = p.lo | 0;
    this.hostRetHi = p.hi | 0;
  }

  // ---- block lookup ---------------------------------------------------------------------------

  /**
   * Block id for pc (decoding it if needed); -1 for the sentinel; -2-k for host function k.
   * Throws faults for unfetchable or undecodable code at pc.
   */
  lookup(pc: VAddr): number {
    const b = this.cache.find(pc);
    if (b >= 0) return b;
    if (pc === SENTINEL_RETURN) return -1;
    const h = this.hostByAddr.get(pc);
    if (h !== undefined) return -2 - h;
    return this.fill(pc);
  }

  /** Follow exit `slot` of block b to pc, linking the two blocks when possible. */
  chain(b: number, slot: number, pc: VAddr): number {
    const gen = this.cache.generation;
    const nb = this.lookup(pc);
    if (nb >= 0 && gen === this.cache.generation) this.cache.blkLink[2 * b + slot] = nb;
    return nb;
  }

  private fill(pc: VAddr): number {
    if (!isCanonical(pc)) throw new PageFault({ address: pc, access: 'fetch', perm: null, pc }, 'non-canonical address');
    if (!this.cache.reserve(this.blockLimit)) {
      this.cache.flush();
      this.cache.reserve(this.blockLimit);
    }
    const c = this.cache;
    const first = c.nInsns;
    const page = Math.floor(pc / 4096);
    let addr = pc;
    let n = 0;
    for (;;) {
      const at = (first + n) * REC_WORDS;
      let len: number;
      try {
        len = this.decodeChecked(addr, c.recs, at, first + n);
      } catch (e) {
        if (n === 0) throw e;
        break;
      }
      c.recs[at + R_INFO] = (c.recs[at + R_INFO]! & 0xffff) | ((addr - pc) << 16);
      n++;
      addr += len;
      if (this.endsBlock(c.recs, at) || n >= this.blockLimit || Math.floor(addr / 4096) !== page) break;
    }
    c.nInsns = first + n;
    this.finishBlock(c.recs, first, n);
    const b = c.addBlock(pc, first, n, addr - pc);
    if (b < 0) {
      c.flush();
      return this.fill(pc);
    }
    return b;
  }

  /** Fetch, decode and Capstone-check the instruction at addr into record slot `at`. */
  private decodeChecked(addr: VAddr, recs: Int32Array, at: number, insnIndex: number): number {
    const max = this.maxInsnBytes;
    const buf = this.fillBuf;
    let avail = 0;
    let stop: PageFault | null = null;
    const { lo, hi } = vaddrToPair(addr);
    while (avail < max) {
      const l = (lo + avail) | 0;
      const h = (hi + (l >>> 0 < lo >>> 0 ? 1 : 0)) | 0;
      let off: number;
      try {
        off = this.port.fetchOffset(l, h);
      } catch (e) {
        if (!(e instanceof PageFault)) throw e;
        stop = e;
        break;
      }
      const inPage = Math.min(max - avail, 4096 - (l & 0xfff));
      buf.set(this.port.mem.subarray(off, off + inPage), avail);
      avail += inPage;
    }
    if (avail === 0) throw this.withPc(stop as PageFault, addr, '(instruction fetch)');
    const view = buf.subarray(0, avail);
    const len = this.decodeInsn(view, avail, addr, recs, at);
    const cs = this.capstoneCheck || (len <= 0 && capstoneReady()) ? disasmOne(this.arch, view, addr) : null;
    if (len === DECODE_TRUNCATED) {
      if (stop) throw this.withPc(stop, addr, cs ? cs.text : '(truncated instruction)');
      throw new InvalidInstructionError(addr, bytesToHex(view), 'truncated or undefined encoding');
    }
    if (len === DECODE_UNKNOWN) {
      if (cs) throw new UnsupportedInstructionError(addr, cs.text, bytesToHex(cs.bytes));
      if (stop && avail < max) throw this.withPc(stop, addr, '(truncated instruction)');
      throw new InvalidInstructionError(addr, bytesToHex(view.subarray(0, Math.min(avail, 8))), 'undefined encoding');
    }
    const stale = this.space.staleIcacheLine(addr, len);
    if (stale !== null) throw new StaleIcacheFault(addr, stale, addr);
    const ours = this.renderInsn(recs, at, addr);
    if (this.capstoneCheck) {
      const bytes = bytesToHex(view.subarray(0, len));
      if (!cs) throw new DecoderMismatchError(addr, bytes, ours, '(invalid)', 'Capstone cannot decode what we decoded');
      if (cs.size !== len) throw new DecoderMismatchError(addr, bytes, `${ours} (${len} bytes)`, `${cs.text} (${cs.size} bytes)`, 'length differs');
      if (normaliseAsm(this.arch, ours) !== normaliseAsm(this.arch, cs.text)) {
        throw new DecoderMismatchError(addr, bytes, ours, cs.text, 'text differs');
      }
    }
    this.cache.texts[insnIndex] = cs ? cs.text : ours;
    return len;
  }

  // ---- faults, traces -------------------------------------------------------------------------

  /** Text of cached instruction `insn` (Capstone's when it was checked). */
  insnText(insn: number, pc: VAddr): string {
    return this.cache.texts[insn] ?? this.renderInsn(this.cache.recs, insn * REC_WORDS, pc);
  }

  /** The same page fault with guest pc and instruction attached, and a reason when one applies. */
  protected withPc(f: PageFault, pc: VAddr, insn: string): PageFault {
    let reason: string | undefined;
    if (!isCanonical(f.address)) reason = 'non-canonical address';
    else {
      const s = this.stack;
      if (s && f.address >= s.base - 4096 && f.address < s.base) {
        reason = `guest stack overflow: guard page below the stack [${hexAddr(s.base)}, ${hexAddr(s.base + s.size)})`;
      }
    }
    return new PageFault({ address: f.address, access: f.access, perm: f.perm, pc, insn }, reason);
  }

  /** Attach pc/instruction to an error raised while executing instruction `insn` of block b. */
  protected contextualise(e: unknown, b: number, insn: number): unknown {
    if (e instanceof PageFault && e.pc === undefined) {
      const pc = this.cache.insnPc(b, insn);
      return this.withPc(e, pc, this.insnText(insn, pc));
    }
    if (e instanceof JitboxError || !(e instanceof Error)) return e;
    return e;
  }

  /** Report each instruction of block b to the tracer / observer (blocks of one insn when tracing). */
  protected noteBlock(b: number): void {
    const c = this.cache;
    const first = c.blkFirst[b]!;
    const obs = this.port.observer;
    if (obs !== null && obs.fetch !== undefined && this.tracer === null) {
      const pc0 = c.blkPc[b]!, n = c.blkCount[b]!, recs = c.recs;
      for (let i = 0; i < n; i++) {
        const info = recs[(first + i) * REC_WORDS + R_INFO]!;
        obs.fetch(pc0 + (info >>> 16), info & 0xff);
      }
      return;
    }
    for (let i = 0; i < c.blkCount[b]!; i++) {
      const pc = c.insnPc(b, first + i);
      const len = c.recs[(first + i) * REC_WORDS + R_INFO]! & 0xff;
      if (this.port.observer?.fetch) this.port.observer.fetch(pc, len);
      if (this.tracer) {
        const { lo, hi } = vaddrToPair(pc);
        const bytes = new Uint8Array(len);
        for (let k = 0; k < len; k++) bytes[k] = this.port.mem[this.port.fetchOffset((lo + k) | 0, hi | 0)]!;
        this.tracer({ pc, text: this.insnText(first + i, pc), bytes });
      }
    }
  }
}

/** A tier option given by a caller, or an InvalidArgumentError naming what was given. */
function checkedTier(tier: unknown): Tier {
  if (!isTier(tier)) throw new InvalidArgumentError(`tier must be interp, translate or auto, got ${String(tier)}`);
  return tier;
}
