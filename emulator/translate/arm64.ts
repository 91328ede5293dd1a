// The arm64 translator of the translation tier (types.ts protocol): one decode-cache block of
// emulator/arm64/decode.ts records -> binaryen statements plus a terminator. The records are the
// only input (no second decoder); semantics are those of emulator/arm64/exec.ts, op by op.
//
// Slots: 0-30 = x0-x30, 31 = sp (the decoder's register numbering, so a record's register field is
// its slot), 32-35 = lazy NZCV (arm64-flags.ts: kind, operand a, operand b, result), 36 = 1 when
// the machine enforces BTI (br/blr then resume so the interpreter sets PSTATE.BTYPE), 37-38 = the
// exclusive monitor (arm64-atomic.ts).
// Reads of the zero register are the constant 0; writes to it are dropped.
//
// Invariants:
// - Each instruction performs its memory accesses (through the emitter's soft TLB, which exits
//   before the instruction on a miss) before any slot write, so every exit leaves the state as
//   the interpreter would have it before that instruction. ldp/stp probe both stores first.
// - Anything not lowered here ends the block with a resume exit at that instruction: brk,
//   udf/undefined, ic ivau. br/blr/ret to a misaligned or non-canonical target resume before the
//   branch (the interpreter raises the fault); so do exclusives and atomics on a misaligned address.
// Like QEMU's target/arm/tcg/translate-a64.c: registers as TCG globals (here wasm locals backed by
// slots), NZCV kept lazily, PC-relative values already resolved.

import binaryen from 'binaryen';
import { R_A, R_B, R_C, R_D, R_FL, R_REGS, R_SINK, R_ZR, FL_SF, MK_LOADS32, MK_LOADS64, MK_STORE, WB_POST, WB_PRE } from '../arm64/decode.js';
import type { Arm64Machine } from '../arm64/machine.js';
import type { Machine } from '../machine.js';
import { REC_WORDS } from '../decode-cache.js';
import { InvalidArgumentError } from '../../support/errors.js';
import { vaddrFromPair, type VAddr } from '../../support/u64.js';
import { type A64Ctx, extendReg, lowerAlu } from './arm64-alu.js';
import { type AtomicCtx, lowerAtomic, SLOT_EXCL_ADDR, SLOT_EXCL_SIZE } from './arm64-atomic.js';
import { type FlagSlots, K_NZCV, LazyFlags, nzcvFromRecord } from './arm64-flags.js';
import { type AccessSize, type ArchTranslator, type BlockEmitter, type BlockTranslation, type Expr, type GuestBlock, i64pair, type Terminator } from './types.js';

export const SLOT_SP = 31;
export const SLOT_FK = 32, SLOT_FA = 33, SLOT_FB = 34, SLOT_FR = 35;
export const SLOT_BTI = 36;
export const ARM64_SLOTS = 39;
const FLAG_SLOTS: FlagSlots = { fk: SLOT_FK, fa: SLOT_FA, fb: SLOT_FB, fr: SLOT_FR };

const I64 = binaryen.i64;

function asArm64(machine: Machine): Arm64Machine {
  if (machine.arch !== 'arm64') throw new InvalidArgumentError(`arm64 translator used with a ${machine.arch} machine`);
  return machine as Arm64Machine;
}

/** i64 constant of a guest address. */
function addrConst(m: binaryen.Module, a: VAddr): Expr {
  return m.i64.const(BigInt.asIntN(64, BigInt(a)));
}

class BlockLowering implements A64Ctx, AtomicCtx {
  readonly m: binaryen.Module;
  readonly flags: LazyFlags;

  constructor(
    readonly e: BlockEmitter,
    readonly block: GuestBlock,
  ) {
    this.m = e.m;
    this.flags = new LazyFlags(e.m, e, FLAG_SLOTS);
  }

  x(r: number): Expr {
    return r === R_ZR ? this.m.i64.const(0n) : this.e.get(r);
  }
  setX(r: number, v: Expr): Expr {
    return r === R_SINK ? this.m.drop(v) : this.e.set(r, v);
  }
  tmp(type: binaryen.Type): number {
    return this.e.local(type);
  }

  /** Loads, stores and pairs (LDST, LDST_REG, LDR_LIT, LDP) of instruction k at record offset o. */
  memory(recs: Int32Array, o: number, k: number): Expr[] {
    const m = this.m, e = this.e;
    const op = recs[o]!;
    const regs = recs[o + R_REGS]!;
    const rt = regs & 0xff, rn = (regs >>> 8) & 0xff, rm = (regs >>> 16) & 0xff, rt2 = regs >>> 24;
    const fl = recs[o + R_FL]!;
    const size = fl & 3, kind = (fl >> 2) & 3, wb = (fl >> 4) & 3;
    const off = recs[o + R_A]!;
    const addr = this.tmp(I64);
    const ga = (): Expr => m.local.get(addr, I64);
    const out: Expr[] = [];
    let base: Expr;
    if (op === 38 /* Op.LDR_LIT */) base = i64pair(m, off, recs[o + R_B]!);
    else if (op === 37 /* Op.LDST_REG */) base = m.i64.add(this.x(rn), extendReg(m, this.x(rm), recs[o + R_C]!, off));
    else if (wb === WB_POST || off === 0) base = this.x(rn);
    else base = m.i64.add(this.x(rn), m.i64.const(BigInt(off)));
    out.push(m.local.set(addr, base));
    const bytes = (1 << size) as AccessSize;
    const loaded = (a: Expr): Expr => {
      const v = e.load(bytes, kind === MK_LOADS64 || kind === MK_LOADS32, a, k);
      return kind === MK_LOADS32 ? m.i64.and(v, m.i64.const(0xffffffffn)) : v;
    };
    if (op === 39 /* Op.LDP */) {
      const a2 = (): Expr => m.i64.add(ga(), m.i64.const(BigInt(bytes)));
      if (kind === MK_STORE) {
        out.push(e.probeStore(bytes, ga(), k), e.probeStore(bytes, a2(), k));
        out.push(e.store(bytes, ga(), this.x(rt), k), e.store(bytes, a2(), this.x(rt2), k));
      } else {
        const t1 = this.tmp(I64), t2 = this.tmp(I64);
        out.push(m.local.set(t1, loaded(ga())), m.local.set(t2, loaded(a2())));
        out.push(this.setX(rt, m.local.get(t1, I64)), this.setX(rt2, m.local.get(t2, I64)));
      }
    } else if (kind === MK_STORE) {
      out.push(e.store(bytes, ga(), this.x(rt), k));
    } else {
      const t = this.tmp(I64);
      out.push(m.local.set(t, loaded(ga())), this.setX(rt, m.local.get(t, I64)));
    }
    if (wb === WB_PRE) out.push(this.setX(rn, ga()));
    else if (wb === WB_POST) out.push(this.setX(rn, m.i64.add(ga(), m.i64.const(BigInt(off)))));
    return out;
  }

  /** Terminator for control-flow record at o (instruction k, the block's last); null if not one. */
  branch(recs: Int32Array, o: number, k: number, code: Expr[]): Terminator | null {
    const m = this.m, e = this.e;
    const op = recs[o]!;
    const regs = recs[o + R_REGS]!;
    const rn = (regs >>> 8) & 0xff;
    const pc = this.block.insnPc(k);
    const next = pc + 4;
    const target = (): VAddr => vaddrFromPair(recs[o + R_A]!, recs[o + R_B]!);
    switch (op) {
      case 24 /* Op.B */:
        return { kind: 'jump', target: target(), count: true };
      case 25 /* Op.BL */:
        code.push(e.set(30, addrConst(m, next)));
        return { kind: 'jump', target: target(), count: true };
      case 26 /* Op.BCOND */: {
        const c = recs[o + R_C]!;
        if (c >> 1 === 7) return { kind: 'jump', target: target(), count: true };
        code.push(...this.flags.prepare());
        return { kind: 'cond', cond: this.flags.cond(c), taken: target(), fall: next, count: true };
      }
      case 27 /* Op.CBZ */: {
        const sf = (recs[o + R_FL]! & FL_SF) !== 0;
        const zero = sf ? m.i64.eqz(this.x(rn)) : m.i32.eqz(m.i32.wrap(this.x(rn)));
        return { kind: 'cond', cond: recs[o + R_C] ? m.i32.eqz(zero) : zero, taken: target(), fall: next, count: true };
      }
      case 28 /* Op.TBZ */: {
        const bit = m.i32.wrap(m.i64.and(m.i64.shr_u(this.x(rn), m.i64.const(BigInt(recs[o + R_C]!))), m.i64.const(1n)));
        return { kind: 'cond', cond: recs[o + R_D] ? bit : m.i32.eqz(bit), taken: target(), fall: next, count: true };
      }
      case 29 /* Op.BR */:
      case 30 /* Op.BLR */:
      case 31 /* Op.RET */: {
        const t = this.tmp(I64);
        const g = (): Expr => m.local.get(t, I64);
        code.push(m.local.set(t, this.x(rn)));
        // misaligned (low bits) or non-canonical (bits 63..47 not all equal): the interpreter faults
        let bad = m.i32.or(
          m.i64.ne(m.i64.and(g(), m.i64.const(3n)), m.i64.const(0n)),
          m.i64.gt_u(m.i64.add(m.i64.shr_s(g(), m.i64.const(47n)), m.i64.const(1n)), m.i64.const(1n)),
        );
        if (op !== 31) bad = m.i32.or(bad, m.i32.wrap(e.get(SLOT_BTI)));
        code.push(m.if(bad, e.exitResume(k)));
        if (op === 30) code.push(e.set(30, addrConst(m, next)));
        return { kind: 'indirect', target: g(), count: true };
      }
      default:
        return null;
    }
  }
}

export class Arm64Translator implements ArchTranslator {
  readonly arch = 'arm64' as const;
  readonly slotCount = ARM64_SLOTS;

  loadState(machine: Machine, words: Int32Array): void {
    const cpu = asArm64(machine);
    for (let i = 0; i <= SLOT_SP; i++) {
      words[2 * i] = cpu.lo[i]!;
      words[2 * i + 1] = cpu.hi[i]!;
    }
    words[2 * SLOT_FK] = K_NZCV;
    words[2 * SLOT_FK + 1] = 0;
    words[2 * SLOT_FA] = cpu.nzcv;
    words[2 * SLOT_FA + 1] = 0;
    words[2 * SLOT_BTI] = cpu.btiEnforce ? 1 : 0;
    words[2 * SLOT_BTI + 1] = 0;
    words[2 * SLOT_EXCL_SIZE] = cpu.exclSize;
    words[2 * SLOT_EXCL_SIZE + 1] = cpu.exclSize < 0 ? -1 : 0;
    words[2 * SLOT_EXCL_ADDR] = cpu.exclLo;
    words[2 * SLOT_EXCL_ADDR + 1] = cpu.exclHi;
  }

  storeState(machine: Machine, words: Int32Array): void {
    const cpu = asArm64(machine);
    for (let i = 0; i <= SLOT_SP; i++) {
      cpu.lo[i] = words[2 * i]!;
      cpu.hi[i] = words[2 * i + 1]!;
    }
    cpu.nzcv = nzcvFromRecord(
      words[2 * SLOT_FK]!,
      words[2 * SLOT_FA]!, words[2 * SLOT_FA + 1]!,
      words[2 * SLOT_FB]!, words[2 * SLOT_FB + 1]!,
      words[2 * SLOT_FR]!, words[2 * SLOT_FR + 1]!,
    );
    cpu.exclSize = words[2 * SLOT_EXCL_SIZE]!;
    cpu.exclLo = words[2 * SLOT_EXCL_ADDR]!;
    cpu.exclHi = words[2 * SLOT_EXCL_ADDR + 1]!;
  }

  setPc(machine: Machine, pc: VAddr): void {
    asArm64(machine).pc = pc;
  }

  canEnter(machine: Machine): boolean {
    return asArm64(machine).btype === 0;
  }

  directTargets(block: GuestBlock): VAddr[] {
    const o = (block.first + block.count - 1) * REC_WORDS;
    const op = block.recs[o]!;
    const fall = block.pc + block.bytes;
    const target = vaddrFromPair(block.recs[o + R_A]!, block.recs[o + R_B]!);
    if (op === 24 /* Op.B */ || op === 25 /* Op.BL */) return [target];
    if (op === 26 /* Op.BCOND */ || op === 27 /* Op.CBZ */ || op === 28 /* Op.TBZ */) return [target, fall];
    if (op >= 29 /* Op.BR */ && op <= 32 /* Op.BRK */) return [];
    return [fall];
  }

  translateBlock(block: GuestBlock, e: BlockEmitter): BlockTranslation {
    const low = new BlockLowering(e, block);
    const recs = block.recs;
    const code: Expr[] = [];
    for (let k = 0; k < block.count; k++) {
      const o = (block.first + k) * REC_WORDS;
      const op = recs[o]!;
      const alu = lowerAlu(low, recs, o);
      if (alu !== null) {
        code.push(...alu);
        continue;
      }
      if (op >= 36 /* Op.LDST */ && op <= 39 /* Op.LDP */) {
        code.push(...low.memory(recs, o, k));
        continue;
      }
      const atomic = lowerAtomic(low, recs, o, k);
      if (atomic !== null) {
        code.push(...atomic);
        continue;
      }
      const end = low.branch(recs, o, k, code);
      if (end !== null) return { code, end };
      return { code, end: { kind: 'resume', insn: k } };
    }
    return { code, end: { kind: 'jump', target: block.pc + block.bytes, count: false } };
  }
}

