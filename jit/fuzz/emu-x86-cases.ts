// Seeded random x86_64 test programs for the emulator's differential tests (Unicorn, the host CPU)
// and fuzzing, built with jitbox's own x86_64 encoders (codegen/x86_64).
//
// Invariants of every generated program (so that three engines must agree bit for bit):
// - rsp, rdi (pointer to a 512-byte data buffer) and r12 (an index in 0..15) are never written, so
//   every memory operand [rdi + r12*scale + disp] stays inside the buffer and the buffer address never
//   leaks into other registers (it differs between engines); r15 is the loop counter of loops only.
// - push/pop come in adjacent pairs; the program ends with `ret`.
// - An instruction that reads flags (jcc, setcc, cmovcc, adc, sbb) only uses conditions whose flags
//   are architecturally defined at that point (`defined` tracks the mask per the SDM); `flagMask` is
//   the defined set at the end. div/idiv are preceded by code that rules out #DE.
// - No instruction reveals the pc (no call, no rip-relative lea).

import { CodeBuffer } from '../../codegen/buffer.js';
import {
  type AluOp, type AnyReg, type Cond, type Mem, type Reg64, type Reg8, type ShiftOp, GPR16, GPR32, GPR64, GPR8, GPR8_HIGH, cl,
  emitAlu, emitBswap, emitCdq, emitCdqe, emitCmov, emitCmpxchg, emitCqo, emitCwde, emitEndbr64, emitImul, emitImul3, emitJcc, emitJmp,
  emitLea, emitMov, emitMovabs, emitMovsx, emitMovsxd, emitMovzx, emitNop, emitPop, emitPush, emitRet, emitSetcc, emitShift, emitShld,
  emitShrd, emitTest, emitUnary, emitXadd, emitXchg, mem, rdi, r12, r15, sized,
} from '../../codegen/x86_64/index.js';
import { Rng } from '../../support/rng.js';

export const CF = 0x1, PF = 0x4, AF = 0x10, ZF = 0x40, SF = 0x80, OF = 0x800;
const ALL = CF | PF | AF | ZF | SF | OF;
export const DATA_SIZE = 512;

export interface X86Case {
  name: string;
  code: Uint8Array;
  /** Initial rax..r15 as 16-hex-digit strings; rsp and rdi are set by the engine (stack, data). */
  regs: string[];
  /** Initial RFLAGS arithmetic bits. */
  flags: number;
  data: Uint8Array;
  /** Flags defined at the end of the program. */
  flagMask: number;
}

const CONDS: readonly Cond[] = ['o', 'no', 'b', 'ae', 'e', 'ne', 'be', 'a', 's', 'ns', 'p', 'np', 'l', 'ge', 'le', 'g'];
const NEEDS = [OF, OF, CF, CF, ZF, ZF, CF | ZF, CF | ZF, SF, SF, PF, PF, SF | OF, SF | OF, ZF | SF | OF, ZF | SF | OF];
const FREE_NUMS = [0, 1, 2, 3, 5, 6, 8, 9, 10, 11, 13, 14];
const ALU_OPS: readonly AluOp[] = ['add', 'or', 'adc', 'sbb', 'and', 'sub', 'xor', 'cmp'];

function hex64(lo: number, hi: number): string {
  return (hi >>> 0).toString(16).padStart(8, '0') + (lo >>> 0).toString(16).padStart(8, '0');
}

class Gen {
  defined = ALL;
  constructor(readonly rng: Rng, readonly buf: CodeBuffer, readonly loopFree: boolean) {}

  size(): 8 | 16 | 32 | 64 {
    return this.rng.pick([8, 16, 32, 64, 64, 32] as const);
  }

  /** A writable register of the given bit size (never rsp, rdi, r12, r15). */
  dst(size: number): AnyReg {
    const n = this.rng.pick(FREE_NUMS);
    if (size === 64) return GPR64[n]!;
    if (size === 32) return GPR32[n]!;
    if (size === 16) return GPR16[n]!;
    if (n < 4 && this.rng.bool(0.2)) return GPR8_HIGH[n]!;
    return GPR8[n]!;
  }

  /** A readable register (also rdi/r12/r15 at 8-32 bits is fine, but rdi's value differs: avoid). */
  src(size: number): AnyReg {
    return this.dst(size);
  }

  mem(size: number): Mem {
    const disp = this.rng.int(0, DATA_SIZE - 8 - 128);
    const m = this.rng.bool(0.4) ? mem(rdi, disp, { index: r12, scale: this.rng.pick([1, 2, 4, 8] as const) }) : mem(rdi, disp);
    return sized(m, size as 8 | 16 | 32 | 64);
  }

  imm(size: number): number {
    const r = this.rng;
    if (size === 8) return r.int(-128, 127);
    if (size === 16) return r.int(-32768, 32767);
    return r.pick([r.int(-128, 127), r.u32() | 0, r.int(-5, 5), 0x7fffffff, -0x80000000]);
  }

  cond(): Cond | null {
    const ok = CONDS.filter((_, i) => (NEEDS[i]! & ~this.defined) === 0);
    return ok.length ? this.rng.pick(ok) : null;
  }

  /** Emit one random instruction (or a short fixed idiom); returns false if nothing was emitted. */
  one(): void {
    const r = this.rng;
    const b = this.buf;
    const s = this.size();
    const k = r.below(24);
    switch (k) {
      case 0: emitMov(b, this.dst(s), this.src(s)); break;
      case 1: if (s === 64 && r.bool(0.5)) emitMovabs(b, GPR64[r.pick(FREE_NUMS)]!, r.u32(), r.u32()); else emitMov(b, this.dst(s), this.imm(s)); break;
      case 2: emitMov(b, this.dst(s), this.mem(s)); break;
      case 3: if (r.bool(0.5)) emitMov(b, this.mem(s), this.src(s)); else emitMov(b, this.mem(s), this.imm(s)); break;
      case 4:
      case 5: {
        const op = r.pick(ALU_OPS);
        if ((op === 'adc' || op === 'sbb') && !(this.defined & CF)) return;
        const form = r.below(5);
        if (form === 0) emitAlu(b, op, this.dst(s), this.src(s));
        else if (form === 1) emitAlu(b, op, this.dst(s), this.imm(s));
        else if (form === 2) emitAlu(b, op, this.dst(s), this.mem(s));
        else if (form === 3) emitAlu(b, op, this.mem(s), this.src(s));
        else emitAlu(b, op, this.mem(s), this.imm(s));
        this.defined = op === 'and' || op === 'or' || op === 'xor' ? ALL & ~AF : ALL;
        break;
      }
      case 6:
        if (r.bool(0.5)) emitTest(b, this.dst(s), this.src(s) as never);
        else emitTest(b, this.dst(s), this.imm(s));
        this.defined = ALL & ~AF;
        break;
      case 7: {
        if (s === 8) return;
        const d = this.dst(s) as never;
        if (r.bool(0.5)) emitImul(b, d, r.bool(0.5) ? this.src(s) : this.mem(s));
        else emitImul3(b, d, r.bool(0.5) ? this.src(s) : this.mem(s), this.imm(s === 16 ? 16 : 32));
        this.defined = CF | OF;
        break;
      }
      case 8:
        emitUnary(b, r.pick(['mul', 'imul'] as const), r.bool(0.5) ? this.src(s) : this.mem(s));
        this.defined = CF | OF;
        break;
      case 9: this.division(s); break;
      case 10: {
        const op = r.pick(['not', 'neg', 'inc', 'dec'] as const);
        emitUnary(b, op, r.bool(0.6) ? this.dst(s) : this.mem(s));
        if (op === 'neg') this.defined = ALL;
        else if (op !== 'not') this.defined = (this.defined & CF) | (ALL & ~CF);
        break;
      }
      case 11:
      case 12: {
        const op: ShiftOp = r.pick(['shl', 'shr', 'sar', 'rol', 'ror', 'shl', 'shr', 'rcl', 'rcr']);
        if ((op === 'rcl' || op === 'rcr') && !(this.defined & CF)) return;
        const target = r.bool(0.7) ? this.dst(s) : this.mem(s);
        if (r.bool(0.25)) {
          emitShift(b, op, target, cl);
          this.defined = 0;
        } else {
          const count = r.bool(0.3) ? 1 : r.int(1, s === 64 ? 63 : 31);
          emitShift(b, op, target, count);
          const w = s;
          if (op === 'rcl' || op === 'rcr') this.defined = (this.defined & ~OF) | CF | (count === 1 ? OF : 0);
          else if (op === 'rol' || op === 'ror') this.defined = (this.defined & ~(CF | OF)) | CF | (count === 1 ? OF : 0);
          else if (count < w) this.defined = CF | PF | ZF | SF | (count === 1 ? OF : 0);
          else this.defined = PF | ZF | SF;
        }
        break;
      }
      case 13: {
        if (s === 8) return;
        const dreg = this.dst(s);
        const src = this.src(s) as never;
        const target = r.bool(0.7) ? dreg : this.mem(s);
        const right = r.bool(0.5);
        if (s !== 16 && r.bool(0.2)) {
          (right ? emitShrd : emitShld)(b, target, src, cl);
          this.defined = 0;
        } else {
          const count = r.int(1, s - 1 > 31 ? 63 : Math.min(31, s - 1));
          (right ? emitShrd : emitShld)(b, target, src, count);
          this.defined = CF | PF | ZF | SF | (count === 1 ? OF : 0);
        }
        break;
      }
      case 14: emitBswap(b, this.dst(r.bool(0.5) ? 32 : 64) as never); break;
      case 15: {
        const form = r.below(3);
        if (form === 0) emitXchg(b, this.dst(s), this.dst(s));
        else if (form === 1) emitXchg(b, this.mem(s), this.dst(s));
        else {
          const lock = r.bool(0.5);
          if (r.bool(0.5)) emitXadd(b, this.mem(s), this.dst(s), { lock });
          else emitCmpxchg(b, this.mem(s), this.dst(s), { lock });
          this.defined = ALL;
        }
        break;
      }
      case 16: {
        if (s === 8) return;
        const base = r.bool(0.8) ? GPR64[r.pick(FREE_NUMS)]! : null;
        const idx = r.bool(0.6) ? GPR64[r.pick(FREE_NUMS)]! : undefined;
        const m = mem(base, r.pick([0, r.int(-128, 127), r.u32() | 0]), idx ? { index: idx, scale: r.pick([1, 2, 4, 8] as const) } : {});
        if (!base && !idx) return;
        emitLea(b, this.dst(s) as never, m);
        break;
      }
      case 17: {
        const from = r.pick([8, 16, 32] as const);
        const to = r.pick([16, 32, 64] as const);
        if (to <= from) return;
        const src = r.bool(0.5) ? this.src(from) : this.mem(from);
        if (from === 32) emitMovsxd(b, this.dst(64) as Reg64, src as never);
        else (r.bool(0.5) ? emitMovzx : emitMovsx)(b, this.dst(to) as never, src as never);
        break;
      }
      case 18: {
        const c = this.cond();
        if (!c) return;
        if (r.bool(0.5)) emitSetcc(b, c, r.bool(0.7) ? (this.dst(8) as Reg8) : this.mem(8));
        else if (s !== 8) emitCmov(b, c, this.dst(s) as never, r.bool(0.6) ? this.src(s) : this.mem(s));
        break;
      }
      case 19: {
        emitPush(b, r.bool(0.7) ? GPR64[r.pick(FREE_NUMS)]! : r.int(-1000, 1000));
        emitPop(b, GPR64[r.pick(FREE_NUMS)]!);
        break;
      }
      case 20: r.pick([emitCdq, emitCqo, emitCdqe, emitCwde])(b); break;
      case 21: if (r.bool(0.2)) emitEndbr64(b); else emitNop(b, r.int(1, 11)); break;
      case 22: this.branch(); break;
      default: this.loop(); break;
    }
  }

  division(s: number): void {
    const b = this.buf;
    const r = this.rng;
    const signed = r.bool(0.5);
    const dnum = r.pick([1, 3, 5, 6, 8, 9, 10, 11, 13, 14]);
    const d = s === 64 ? GPR64[dnum]! : s === 32 ? GPR32[dnum]! : s === 16 ? GPR16[dnum]! : GPR8[dnum]!;
    // A positive, non-zero divisor and a dividend whose high half is the sign/zero extension.
    emitShift(b, 'shr', d, 1);
    emitAlu(b, 'or', d, 1);
    if (s === 8) (signed ? emitMovsx : emitMovzx)(b, GPR16[0]!, GPR8[0]!);
    else if (signed) {
      if (s === 64) emitCqo(b);
      else if (s === 32) emitCdq(b);
      else {
        emitMovsx(b, GPR32[0]!, GPR16[0]!);
        emitMov(b, GPR32[2]!, GPR32[0]!);
        emitShift(b, 'sar', GPR32[2]!, 16);
      }
    } else emitAlu(b, 'xor', GPR32[2]!, GPR32[2]!);
    emitUnary(b, signed ? 'idiv' : 'div', r.bool(0.7) ? d : this.placeInMem(d, s));
    this.defined = 0;
  }

  placeInMem(d: AnyReg, s: number): Mem {
    const m = this.mem(s);
    emitMov(this.buf, m, d);
    return m;
  }

  branch(): void {
    const c = this.rng.bool(0.2) ? null : this.cond();
    const skip = this.buf.newLabel();
    if (c) emitJcc(this.buf, c, skip);
    else emitJmp(this.buf, skip);
    const before = this.defined;
    const n = this.rng.int(1, 4);
    for (let i = 0; i < n; i++) this.safeOne();
    this.buf.bind(skip);
    this.defined &= before;
  }

  loop(): void {
    if (!this.loopFree) return;
    const b = this.buf;
    emitMov(b, GPR32[15]!, this.rng.int(1, 6));
    const top = b.newLabel();
    b.bind(top);
    const inner = new Gen(this.rng, b, false);
    inner.defined = 0;
    const n = this.rng.int(1, 5);
    for (let i = 0; i < n; i++) inner.safeOne();
    emitAlu(b, 'sub', r15, 1);
    emitJcc(b, 'ne', top);
    this.defined = ALL;
  }

  safeOne(): void {
    const at = this.buf.linearLength;
    try {
      this.one();
    } catch (e) {
      if (!(e instanceof Error) || !/operand|immediate|register/i.test(e.constructor.name + e.message)) throw e;
      this.buf.truncate(at);
    }
  }
}

/** One random program with its initial state. */
export function generateX86Case(rng: Rng, name: string, insns: number, branching: boolean): X86Case {
  const buf = new CodeBuffer('x86_64', 256);
  const g = new Gen(rng, buf, branching);
  for (let i = 0; i < insns; i++) {
    if (!branching) {
      let tries = 0;
      const at = buf.linearLength;
      do g.safeOne();
      while (buf.linearLength === at && ++tries < 5);
    } else g.safeOne();
  }
  emitRet(buf);
  const code = buf.finish({ base: 0 }).bytes;
  const regs: string[] = [];
  for (let i = 0; i < 16; i++) {
    const pick = rng.below(6);
    let lo = rng.u32();
    let hi = rng.u32();
    if (pick === 0) hi = 0;
    if (pick === 1) {
      lo = rng.int(0, 300);
      hi = 0;
    }
    if (pick === 2) {
      lo = -rng.int(1, 300);
      hi = -1;
    }
    if (i === 12) {
      lo = rng.int(0, 15);
      hi = 0;
    }
    if (i === 4 || i === 7) {
      lo = 0;
      hi = 0;
    }
    regs.push(hex64(lo, hi));
  }
  const flags = rng.u32() & ALL;
  return { name, code, regs, flags, data: rng.bytes(DATA_SIZE), flagMask: g.defined };
}

export function generateX86Cases(seed: number, count: number): X86Case[] {
  const rng = new Rng(seed);
  const out: X86Case[] = [];
  for (let i = 0; i < count; i++) {
    const branching = i % 3 === 2;
    out.push(generateX86Case(rng, `${branching ? 'branch' : 'line'}-${seed}-${i}`, branching ? rng.int(4, 14) : rng.int(1, 12), branching));
  }
  return out;
}
