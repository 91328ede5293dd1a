// The arm64 core: register file, NZCV, exclusive monitor and BTI state over the shared Machine
// (emulator/machine.ts: Capstone-checked decode cache, soft TLB port, calls, host functions).
//
// Invariants:
// - Registers are 64-bit lo/hi int32 pairs in two Int32Arrays indexed as in decode.ts (0..30,
//   SP = 31, zero-register source 32 stays 0, sink 33 is write-only). No BigInt on the hot path.
// - Every load and store goes through the shared GuestMemoryPort (soft TLB over the page tables);
//   every fetch through Machine.fill (execute permission, stale I-cache lines, Capstone check).
// - A fault leaves pc at the faulting instruction, which has not retired and changed nothing:
//   stores, ldp/stp pairs and atomics check write permission before writing.
// - Calls follow AAPCS64: x0-x7 arguments, x0 result, x30 = SENTINEL_RETURN, sp 16-byte aligned.
// Like QEMU's aarch64-linux-user: blocks per guest pc, softmmu TLB, one exclusive monitor
// (address + size) cleared by stxr/clrex; BTI enforcement treats every executable page as guarded
// (Linux maps BTI-marked text with PROT_BTI).

import type { GuestMemory } from '../../execmem/types.js';
import { PageFault } from '../../execmem/types.js';
import { InvalidArgumentError } from '../../support/errors.js';
import { type U64, type VAddr, vaddrFromPair, vaddrToPair } from '../../support/u64.js';
import { REC_WORDS } from '../decode-cache.js';
import { BudgetExceededError, GuestTrap, InvalidInstructionError } from '../errors.js';
import { DECODE_TRUNCATED, DECODE_UNKNOWN, Machine, type MachineOptions, SENTINEL_RETURN } from '../machine.js';
import { decodeA64, endsBlock, MK_LOADS32, MK_LOADS64, NREGS, Op, R_A, R_B, R_SP } from './decode.js';
import * as exec from './exec.js';
import { AlignmentFault, BranchTargetFault, PcAlignmentFault } from './faults.js';
import { renderA64 } from './render.js';

const TWO32 = 4294967296;
// Bound once (vitest's module runner turns every imported-binding access into a getter call).
const { execChain, EXIT_BUDGET, EXIT_INDIRECT, EXIT_NEXT, EXIT_TAKEN } = exec;
const REG_NAMES: readonly string[] = [...Array.from({ length: 31 }, (_, i) => `x${i}`), 'sp', 'pc', 'nzcv'];

interface IcacheFlusher {
  flushIcacheRange(addr: VAddr, len: number): void;
}
function hasFlush(m: object): m is IcacheFlusher {
  return typeof (m as Partial<IcacheFlusher>).flushIcacheRange === 'function';
}

export class Arm64Machine extends Machine {
  readonly arch = 'arm64' as const;
  readonly regNames = REG_NAMES;
  protected readonly maxInsnBytes = 4;

  readonly lo = new Int32Array(NREGS);
  readonly hi = new Int32Array(NREGS);
  nf = 0;
  zf = 0;
  cf = 0;
  vf = 0;
  pc: VAddr = 0;
  /** BTI enforcement: an indirect branch (br/blr) must land on a compatible `bti`. */
  btiEnforce = false;
  /** PSTATE.BTYPE after br/blr (0 none; 1 br x16/x17; 2 blr; 3 other br). */
  btype = 0;
  btypePc: VAddr = 0;
  /** Exclusive monitor: size (log2) of the open reservation or -1, and its address. */
  exclSize = -1;
  exclLo = 0;
  exclHi = 0;
  /** Result of the last load (lo, hi), extended as requested. */
  vlo = 0;
  vhi = 0;
  /** Target of the last indirect branch (br/blr/ret) as a pair. */
  jlo = 0;
  jhi = 0;
  /** Set by execChain: last block run, records run in it, instructions retired by the chain. */
  curB = 0;
  curN = 0;
  retired = 0;
  /** Index (relative to the block's first record) of the record that raised the last fault. */
  faultIndex = 0;
  /** Raw instruction word per decode-cache instruction index (for rendering). */
  private words = new Int32Array(4096);

  constructor(space: GuestMemory, opts: MachineOptions = {}) {
    super(space, opts);
  }

  // ---- state access ----

  getX(i: number): U64 {
    return { lo: this.lo[i]! >>> 0, hi: this.hi[i]! >>> 0 };
  }
  setX(i: number, lo: number, hi: number): void {
    if (!Number.isInteger(i) || i < 0 || i > 31) throw new InvalidArgumentError(`arm64 register index ${i} (0-30, 31 = sp)`);
    this.lo[i] = lo | 0;
    this.hi[i] = hi | 0;
  }
  get nzcv(): number {
    return (this.nf << 3) | (this.zf << 2) | (this.cf << 1) | this.vf;
  }
  set nzcv(v: number) {
    this.nf = (v >> 3) & 1;
    this.zf = (v >> 2) & 1;
    this.cf = (v >> 1) & 1;
    this.vf = v & 1;
  }

  returnValue(): U64 {
    return this.getX(0);
  }
  registers(): Record<string, U64> {
    const r: Record<string, U64> = {};
    for (let i = 0; i < 32; i++) r[REG_NAMES[i]!] = this.getX(i);
    r.pc = vaddrToPair(this.pc);
    r.nzcv = { lo: this.nzcv << 28, hi: 0 };
    return r;
  }
  protected argRegs(): U64[] {
    return Array.from({ length: 8 }, (_, i) => this.getX(i));
  }
  protected setupCall(args: U64[], stackTop: VAddr): void {
    if (args.length > 8) throw new InvalidArgumentError(`arm64 calls take at most 8 register arguments, got ${args.length}`);
    for (let i = 0; i < args.length; i++) this.setX(i, args[i]!.lo, args[i]!.hi);
    const sp = vaddrToPair(Math.floor(stackTop / 16) * 16);
    this.setX(R_SP, sp.lo, sp.hi);
    const ret = vaddrToPair(SENTINEL_RETURN);
    this.setX(30, ret.lo, ret.hi);
    this.btype = 0;
    this.exclSize = -1;
  }

  // ---- decode hooks ----

  protected decodeInsn(bytes: Uint8Array, avail: number, pc: VAddr, recs: Int32Array, at: number): number {
    if (avail < 4) return DECODE_TRUNCATED;
    const word = bytes[0]! | (bytes[1]! << 8) | (bytes[2]! << 16) | (bytes[3]! << 24);
    const idx = at / REC_WORDS;
    if (idx >= this.words.length) {
      let n = this.words.length;
      while (n <= idx) n *= 2;
      const w = new Int32Array(n);
      w.set(this.words);
      this.words = w;
    }
    this.words[idx] = word;
    return decodeA64(word, pc, recs, at) ? 4 : DECODE_UNKNOWN;
  }
  renderInsn(_recs: Int32Array, at: number, pc: VAddr): string {
    return renderA64(this.words[at / REC_WORDS]! >>> 0, pc);
  }
  protected endsBlock(recs: Int32Array, at: number): boolean {
    return endsBlock(recs[at]!);
  }

  // ---- helpers used by exec.ts ----

  /** Load `1 << size` bytes into vlo/vhi; kind MK_LOADS64 / MK_LOADS32 sign-extends. */
  load(alo: number, ahi: number, size: number, kind: number): void {
    const p = this.port;
    let v: number, h = 0;
    switch (size) {
      case 0: v = p.ld8(alo, ahi); break;
      case 1: v = p.ld16(alo, ahi); break;
      case 2: v = p.ld32(alo, ahi); break;
      default: v = p.ld64(alo, ahi); h = p.hiOut;
    }
    if (kind === MK_LOADS64 || kind === MK_LOADS32) {
      v = size === 0 ? (v << 24) >> 24 : size === 1 ? (v << 16) >> 16 : v;
      h = kind === MK_LOADS64 ? v >> 31 : 0;
    }
    this.vlo = v;
    this.vhi = h;
  }

  store(alo: number, ahi: number, size: number, vlo: number, vhi: number): void {
    const p = this.port;
    switch (size) {
      case 0: p.st8(alo, ahi, vlo); return;
      case 1: p.st16(alo, ahi, vlo); return;
      case 2: p.st32(alo, ahi, vlo); return;
      default: p.st64(alo, ahi, vlo, vhi);
    }
  }

  alignmentFault(alo: number, ahi: number, size: number, insn: number, pc: VAddr): AlignmentFault {
    return new AlignmentFault(vaddrFromPair(alo, ahi), 1 << size, pc, this.insnText(insn, pc));
  }

  /** ic ivau: invalidate the 64-byte line at (lo, hi) in execmem's I-cache model. */
  icInvalidate(alo: number, ahi: number): void {
    const addr = vaddrFromPair(alo, ahi);
    if (this.space.pageInfo(addr) === null) throw new PageFault({ address: addr, access: 'read', perm: null }, 'ic ivau of an unmapped address');
    if (hasFlush(this.space)) this.space.flushIcacheRange(Math.floor(addr / 64) * 64, 64);
  }

  /** The fault for a trapping record (brk, udf, or an undefined one). */
  trapFor(insn: number, pc: VAddr): Error {
    const at = insn * REC_WORDS;
    const op = this.cache.recs[at]!;
    const imm = this.cache.recs[at + R_A]! >>> 0;
    if (op === Op.BRK) return new GuestTrap('brk', pc, `brk #0x${imm.toString(16)}`);
    const w = this.words[insn]! >>> 0;
    const bytes = [0, 8, 16, 24].map((s) => ((w >>> s) & 0xff).toString(16).padStart(2, '0')).join(' ');
    return new InvalidInstructionError(pc, bytes, 'undefined A64 encoding');
  }

  // ---- run loop ----

  private checkBti(first: number, start: VAddr): void {
    const bt = this.btype;
    this.btype = 0;
    const at = first * REC_WORDS;
    if (this.cache.recs[at] === Op.BTI) {
      const kind = this.cache.recs[at + R_A]!; // 0 bti, 1 c, 2 j, 3 jc
      if (kind === 3 || (kind === 1 && (bt === 1 || bt === 2)) || (kind === 2 && (bt === 1 || bt === 3))) return;
    }
    this.pc = start;
    throw new BranchTargetFault(start, this.btypePc, bt === 2 ? 'blr' : 'br', this.insnText(first, start));
  }

  protected execute(entry: VAddr): void {
    if (entry % 4 !== 0) throw new PcAlignmentFault(entry, entry);
    this.pc = entry;
    const c = this.cache;
    const budget = this.budget;
    const noting = this.tracer !== null || this.port.observer !== null;
    let insns = this.insns;
    let b = this.lookup(entry);
    let inBlock = false;
    try {
      for (;;) {
        while (b < 0) {
          if (b === -1) {
            this.pc = SENTINEL_RETURN;
            this.insns = insns;
            return;
          }
          this.insns = insns;
          this.runHost(-2 - b);
          this.lo[0] = this.hostRetLo;
          this.hi[0] = this.hostRetHi;
          insns++;
          const ret = this.hi[30]! * TWO32 + (this.lo[30]! >>> 0);
          if ((this.lo[30]! & 3) !== 0) throw new PcAlignmentFault(ret, this.pc);
          this.pc = ret;
          b = this.lookup(this.pc);
        }
        // Translation tier (emulator/translate): runs translated regions, returns what to interpret
        // (from record `from` of block b on when a translated block stopped in its middle).
        let from = 0;
        if (this.tx !== null) {
          this.insns = insns;
          try {
            b = this.tx.run(b);
          } finally {
            insns = this.insns;
          }
          if (b < 0) continue;
          from = this.tx.resume > 0 ? this.tx.resume : 0;
          if (from > 0) this.pc = c.blkPc[b]! + 4 * from;
        }
        if (from === 0 && this.btype !== 0) this.checkBti(c.blkFirst[b]!, c.blkPc[b]!);
        if (noting) this.noteBlock(b);
        inBlock = true;
        const exit = execChain(this, c, b, budget - insns, noting, from, this.tx !== null ? this.tx.regionMap : null);
        inBlock = false;
        insns += this.retired;
        b = this.curB;
        const n = this.curN;
        if (exit === EXIT_NEXT) {
          this.pc = c.blkPc[b]!;
          continue;
        }
        if (exit === EXIT_TAKEN) {
          const at = (c.blkFirst[b]! + n - 1) * REC_WORDS;
          this.pc = c.recs[at + R_B]! * TWO32 + (c.recs[at + R_A]! >>> 0);
          b = this.chain(b, 0, this.pc);
        } else if (exit === EXIT_INDIRECT) {
          this.pc = this.jhi * TWO32 + (this.jlo >>> 0);
          b = this.lookup(this.pc);
        } else {
          this.pc = c.blkPc[b]! + 4 * n;
          if (exit === EXIT_BUDGET || n < c.blkCount[b]!) throw new BudgetExceededError(budget, insns, this.pc);
          b = this.chain(b, 1, this.pc);
        }
      }
    } catch (e) {
      if (!inBlock) {
        this.insns = insns;
        throw e;
      }
      const fb = this.curB, i = this.faultIndex;
      this.insns = insns + this.retired;
      this.pc = c.blkPc[fb]! + 4 * i;
      throw this.contextualise(e, fb, c.blkFirst[fb]! + i);
    }
  }
}
