// The x86_64 translator: decode-cache records (emulator/x86_64/ops.ts) of one block to binaryen IR
// (types.ts protocol). Registers rax..r15 are slots 0-15 as native i64; flags are the interpreter's
// lazy record in slots (x86_64-flags.ts). Semantics mirror emulator/x86_64/exec.ts and machine.ts
// instruction by instruction; shifts and rotates live in x86_64-shift.ts, one-operand mul/div in
// x86_64-muldiv.ts. Not translated (the block ends with a resume exit there and the interpreter
// runs it): int3/ud2, and (inside translated forms) every #DE of div/idiv, which exits before the
// instruction. xadd/cmpxchg are plain load/op/store (the guest is single-threaded: the lock
// prefix changes nothing observable), with the interpreter's flags.
//
// Invariants: each instruction performs its guest memory accesses (which may exit) before it sets
// any slot, so an exit before it leaves the state untouched; values narrower than 64 bits are
// written with the SDM's rules (32-bit results zero the upper half, 8/16-bit merge).

import binaryen from 'binaryen';
import { isCanonical, vaddrFromPair, type VAddr } from '../../support/u64.js';
import { REC_WORDS } from '../decode-cache.js';
import type { Machine } from '../machine.js';
import type { X86Machine } from '../x86_64/machine.js';
import { ALU_ADC, ALU_ADD, ALU_AND, ALU_CMP, ALU_OR, ALU_SBB, ALU_SUB, ALU_XOR, BASE_NONE, BASE_RIP, IDX_NONE, IDX_RIZ, infoAux, infoSize, UN_DEC, UN_DIV, UN_IDIV, UN_IMUL, UN_INC, UN_MUL, UN_NEG, UN_NOT, X } from '../x86_64/ops.js';
import { type AccessSize, type ArchTranslator, type BlockEmitter, type BlockTranslation, type Expr, type GuestBlock, vaddrConst } from './types.js';
import { type AddrRef, Unsupported, type X86Tx } from './x86_64-ctx.js';
import {
  c64,
  carryFlag,
  condition,
  F_ADC,
  F_DEC,
  F_INC,
  F_ADD,
  F_LOGIC,
  F_RAW,
  F_SBB,
  F_SHIFT,
  F_SUB,
  type KnownFlags,
  rawFlags,
  S_FC,
  S_FK,
  S_FR,
  S_FSZ,
  setLazy,
  setRaw,
  sext,
  sizeMask,
  X86_SLOTS,
} from './x86_64-flags.js';
import { lowerDiv, lowerMul } from './x86_64-muldiv.js';
import { lowerShift } from './x86_64-shift.js';

const RSP = 4;
const RBP = 5;

function isX86(m: Machine): m is X86Machine {
  return m.arch === 'x86_64';
}

class BlockTx implements X86Tx {
  readonly e: BlockEmitter;
  readonly m: binaryen.Module;
  private readonly b: GuestBlock;
  readonly r: Int32Array;
  known: KnownFlags | null = null;
  private readonly out: Expr[] = [];
  k = 0;
  i = 0;

  constructor(b: GuestBlock, e: BlockEmitter) {
    this.b = b;
    this.e = e;
    this.m = e.m;
    this.r = b.recs;
  }

  run(): BlockTranslation {
    const b = this.b;
    for (this.k = 0; this.k < b.count; this.k++) {
      this.i = (b.first + this.k) * REC_WORDS;
      const before = this.out.length;
      const knownBefore = this.known;
      let end: BlockTranslation['end'] | null;
      try {
        end = this.insn();
      } catch (err) {
        if (!(err instanceof Unsupported)) throw err;
        this.out.length = before;
        this.known = knownBefore;
        return { code: this.out, end: { kind: 'resume', insn: this.k } };
      }
      if (end !== null) return { code: this.out, end };
    }
    return { code: this.out, end: { kind: 'jump', target: b.pc + b.bytes, count: false } };
  }

  // ---- operands -------------------------------------------------------------------------------

  tmp(v: Expr): () => Expr {
    const l = this.e.local(binaryen.i64);
    this.out.push(this.m.local.set(l, v));
    return () => this.m.local.get(l, binaryen.i64);
  }

  tmp32(v: Expr): () => Expr {
    const l = this.e.local(binaryen.i32);
    this.out.push(this.m.local.set(l, v));
    return () => this.m.local.get(l, binaryen.i32);
  }

  getReg(reg: number, size: number): Expr {
    const m = this.m;
    if (size === 8) return this.e.get(reg);
    if (size === 1 && reg >= 16) return m.i64.and(m.i64.shr_u(this.e.get(reg - 16), c64(m, 8, 0)), c64(m, 0xff, 0));
    return m.i64.and(this.e.get(reg), sizeMask(m, size));
  }

  setReg(reg: number, size: number, v: Expr): Expr {
    const m = this.m;
    const e = this.e;
    if (size === 8) return e.set(reg, v);
    if (size === 4) return e.set(reg, m.i64.and(v, c64(m, -1, 0)));
    if (size === 2) return e.set(reg, m.i64.or(m.i64.and(e.get(reg), c64(m, ~0xffff, -1)), m.i64.and(v, c64(m, 0xffff, 0))));
    if (reg >= 16) {
      const r = reg - 16;
      return e.set(r, m.i64.or(m.i64.and(e.get(r), c64(m, ~0xff00, -1)), m.i64.shl(m.i64.and(v, c64(m, 0xff, 0)), c64(m, 8, 0))));
    }
    return e.set(reg, m.i64.or(m.i64.and(e.get(reg), c64(m, ~0xff, -1)), m.i64.and(v, c64(m, 0xff, 0))));
  }

  private insnEnd(): VAddr {
    return this.b.insnPc(this.k) + (this.r[this.i + 1]! & 0xff);
  }

  private ea(): Expr {
    const m = this.m;
    const r = this.r;
    const i = this.i;
    const base = r[i + 3]!;
    const c = r[i + 4]!;
    const disp = r[i + 5]!;
    if (base === BASE_RIP) {
      return vaddrConst(m, this.insnEnd() + disp);
    }
    let a: Expr = c64(m, disp, disp >> 31);
    if (base !== BASE_NONE && base >= 0) a = m.i64.add(a, this.e.get(base));
    const idx = c & 0xff;
    if (idx !== IDX_NONE && idx !== IDX_RIZ) {
      const sh = (c >> 8) & 3;
      const iv = this.e.get(idx);
      a = m.i64.add(a, sh ? m.i64.shl(iv, c64(m, sh, 0)) : iv);
    }
    return a;
  }

  isMem(): boolean {
    return this.r[this.i + 4]! >= 0;
  }

  /** r/m operand value (zero-extended); for memory, `addr` receives the EA getter. */
  readRm(size: number, addr?: AddrRef): Expr {
    if (!this.isMem()) return this.getReg(this.r[this.i + 3]!, size);
    const a = this.tmp(this.ea());
    if (addr) addr.get = a;
    return this.e.load(size as AccessSize, false, a(), this.k);
  }

  writeRm(size: number, addr: AddrRef, v: Expr): Expr {
    return this.isMem() ? this.e.store(size as AccessSize, addr.get(), v, this.k) : this.setReg(this.r[this.i + 3]!, size, v);
  }

  private addrRef(): AddrRef {
    return { get: () => c64(this.m, 0, 0) };
  }

  private imm(size: number): Expr {
    const r = this.r;
    const i = this.i;
    if (size === 8) return c64(this.m, r[i + 6]!, r[i + 7]!);
    const v = r[i + 6]!;
    return c64(this.m, size === 4 ? v : size === 2 ? v & 0xffff : v & 0xff, 0);
  }

  /** Full 64-bit immediate pair as the interpreter stores it (r[i+6], r[i+7]). */
  private imm64(): Expr {
    return c64(this.m, this.r[this.i + 6]!, this.r[this.i + 7]!);
  }

  emit(...x: Expr[]): void {
    this.out.push(...x);
  }

  // ---- ALU --------------------------------------------------------------------------------------

  /** Result (masked to size) and flag kind of ALU kind `aux` on zero-extended a, b. */
  private aluResult(aux: number, size: number, a: Expr, b: Expr, cin: (() => Expr) | null): { r: Expr; kind: number } {
    const m = this.m;
    let r: Expr;
    let kind: number;
    switch (aux) {
      case ALU_ADD:
        r = m.i64.add(a, b);
        kind = F_ADD;
        break;
      case ALU_ADC:
        r = m.i64.add(m.i64.add(a, b), m.i64.extend_u(cin!()));
        kind = F_ADC;
        break;
      case ALU_SBB:
        r = m.i64.sub(m.i64.sub(a, b), m.i64.extend_u(cin!()));
        kind = F_SBB;
        break;
      case ALU_SUB:
      case ALU_CMP:
        r = m.i64.sub(a, b);
        kind = F_SUB;
        break;
      case ALU_OR:
        r = m.i64.or(a, b);
        kind = F_LOGIC;
        break;
      case ALU_AND:
        r = m.i64.and(a, b);
        kind = F_LOGIC;
        break;
      case ALU_XOR:
        r = m.i64.xor(a, b);
        kind = F_LOGIC;
        break;
      default:
        throw new Unsupported();
    }
    if (size !== 8) r = m.i64.and(r, sizeMask(m, size));
    return { r, kind };
  }

  /** dst (reg or the memory operand at addr) op= src with flags; cmp/test write nothing. */
  private alu(aux: number, size: number, aGet: () => Expr, bGet: () => Expr, write: ((v: Expr) => Expr) | null): void {
    // adc / sbb: the carry in is the current CF (alu.ts: eflags(fl) & CF), kept in FC.
    const cin = aux === ALU_ADC || aux === ALU_SBB ? this.tmp32(carryFlag(this.e, this.known)) : null;
    const { r, kind } = this.aluResult(aux, size, aGet(), bGet(), cin);
    const res = this.tmp(r);
    if (write && aux !== ALU_CMP) this.emit(write(res()));
    this.emit(...setLazy(this.e, kind, size, res(), aGet(), bGet()));
    this.emit(this.e.set(S_FC, cin ? this.m.i64.extend_u(cin()) : c64(this.m, 0, 0)));
    this.known = { kind, size };
  }

  private fastAluRR(kind: 'add' | 'sub' | 'cmp', flags: boolean): void {
    const s = this.r[this.i + 3]!;
    this.fastAlu(kind, flags, this.r[this.i + 2]!, () => this.e.get(s));
  }

  private fastAlu(kind: 'add' | 'sub' | 'cmp', flags: boolean, d: number, b: () => Expr): void {
    const m = this.m;
    const e = this.e;
    if (!flags) {
      this.emit(e.set(d, kind === 'add' ? m.i64.add(e.get(d), b()) : m.i64.sub(e.get(d), b())));
      return;
    }
    const a = this.tmp(e.get(d));
    const bv = this.tmp(b());
    const r = this.tmp(kind === 'add' ? m.i64.add(a(), bv()) : m.i64.sub(a(), bv()));
    if (kind !== 'cmp') this.emit(e.set(d, r()));
    this.emit(...setLazy(e, kind === 'add' ? F_ADD : F_SUB, 8, r(), a(), bv()));
    this.known = { kind: kind === 'add' ? F_ADD : F_SUB, size: 8 };
  }

  private logicFast(d: number, v: Expr, size: number, flags: boolean): void {
    const e = this.e;
    const m = this.m;
    if (!flags) {
      this.emit(e.set(d, v));
      return;
    }
    const r = this.tmp(v);
    this.emit(e.set(d, r()));
    this.emit(...setLazy(e, F_LOGIC, size, r(), c64(m, 0, 0), c64(m, 0, 0)));
    this.known = { kind: F_LOGIC, size };
  }

  // ---- stack ------------------------------------------------------------------------------------

  private push(v: () => Expr): void {
    const m = this.m;
    const sp = this.tmp(m.i64.sub(this.e.get(RSP), c64(m, 8, 0)));
    this.emit(this.e.store(8, sp(), v(), this.k));
    this.emit(this.e.set(RSP, sp()));
  }

  /** Pop: returns the value getter; rsp already advanced. */
  private pop(): () => Expr {
    const m = this.m;
    const sp = this.tmp(this.e.get(RSP));
    const v = this.tmp(this.e.load(8, false, sp(), this.k));
    this.emit(this.e.set(RSP, m.i64.add(sp(), c64(m, 8, 0))));
    return v;
  }

  private canonicalOrResume(t: () => Expr): void {
    const m = this.m;
    // canonical: bits 63..47 all equal, i.e. (t << 16) >> 16 == t
    const ok = m.i64.eq(m.i64.shr_s(m.i64.shl(t(), c64(m, 16, 0)), c64(m, 16, 0)), t());
    this.emit(m.if(m.i32.eqz(ok), this.e.exitResume(this.k)));
  }

  private directTarget(): VAddr {
    const t = vaddrFromPair(this.r[this.i + 6]!, this.r[this.i + 7]!);
    if (!isCanonical(t)) throw new Unsupported();
    return t;
  }

  private cond(cc: number): Expr {
    return condition(this.e, this.known, cc);
  }

  // ---- one instruction --------------------------------------------------------------------------

  private insn(): BlockTranslation['end'] | null {
    const m = this.m;
    const e = this.e;
    const r = this.r;
    const i = this.i;
    const op = r[i]!;
    const info = r[i + 1]!;
    const size = infoSize(info);
    const aux = infoAux(info);
    const a = r[i + 2]!;
    switch (op) {
      case X.NOP:
        return null;
      case X.ADD64_RR:
      case X.ADD64_RR_NF:
        this.fastAluRR('add', op === X.ADD64_RR);
        return null;
      case X.SUB64_RR:
      case X.SUB64_RR_NF:
      case X.SUB64_RR_JCC:
        this.fastAluRR('sub', op !== X.SUB64_RR_NF);
        return null;
      case X.CMP64_RR:
      case X.CMP64_RR_JCC:
        this.fastAluRR('cmp', true);
        return null;
      case X.ADD64_RI:
      case X.ADD64_RI_NF:
        this.fastAlu('add', op === X.ADD64_RI, a, () => this.imm64());
        return null;
      case X.SUB64_RI:
      case X.SUB64_RI_NF:
      case X.SUB64_RI_JCC:
        this.fastAlu('sub', op !== X.SUB64_RI_NF, a, () => this.imm64());
        return null;
      case X.CMP64_RI:
      case X.CMP64_RI_JCC:
        this.fastAlu('cmp', true, a, () => this.imm64());
        return null;
      case X.AND64_RI:
      case X.AND64_RI_NF:
        this.logicFast(a, m.i64.and(e.get(a), this.imm64()), 8, op === X.AND64_RI);
        return null;
      case X.AND32_RI:
      case X.AND32_RI_NF:
        this.logicFast(a, m.i64.and(e.get(a), c64(m, r[i + 6]!, 0)), 4, op === X.AND32_RI);
        return null;
      case X.XOR64_RR:
      case X.XOR64_RR_NF:
        this.logicFast(a, m.i64.xor(e.get(a), e.get(r[i + 3]!)), 8, op === X.XOR64_RR);
        return null;
      case X.XOR32_RR:
      case X.XOR32_RR_NF:
        this.logicFast(a, m.i64.and(m.i64.xor(e.get(a), e.get(r[i + 3]!)), c64(m, -1, 0)), 4, op === X.XOR32_RR);
        return null;
      case X.MOV64_RR:
        this.emit(e.set(a, e.get(r[i + 3]!)));
        return null;
      case X.MOV32_RR:
        this.emit(e.set(a, m.i64.and(e.get(r[i + 3]!), c64(m, -1, 0))));
        return null;
      case X.SHR64_I:
      case X.SHR64_I_NF: {
        const n = r[i + 6]! & 63;
        if (op === X.SHR64_I_NF) {
          this.emit(e.set(a, m.i64.shr_u(e.get(a), c64(m, n, 0))));
          return null;
        }
        const v = this.tmp(e.get(a));
        const res = this.tmp(m.i64.shr_u(v(), c64(m, n, 0)));
        this.emit(e.set(a, res()));
        // fl[8] = CF (bit n-1) | OF when n == 1 and the old sign was set
        let fc: Expr = m.i64.and(m.i64.shr_u(v(), c64(m, n - 1, 0)), c64(m, 1, 0));
        if (n === 1) fc = m.i64.or(fc, m.select(m.i64.lt_s(v(), c64(m, 0, 0)), c64(m, 0x800, 0), c64(m, 0, 0)));
        this.emit(e.set(S_FC, fc));
        this.emit(...this.setShiftLazy(res()));
        this.known = { kind: F_SHIFT, size: 8 };
        return null;
      }
      case X.SHL64_I:
        lowerShift(this, false, false, 8, 4);
        return null;
      case X.LOAD64: {
        const v = e.load(8, false, this.ea(), this.k);
        this.emit(e.set(a, v));
        return null;
      }
      case X.STORE64:
        this.emit(e.store(8, this.ea(), e.get(a), this.k));
        return null;
      case X.JCC_NZ:
      case X.JCC_Z:
      case X.JCC: {
        const cc = op === X.JCC_NZ ? 5 : op === X.JCC_Z ? 4 : aux;
        const c = this.cond(cc);
        return { kind: 'cond', cond: c, taken: this.directTarget(), fall: this.insnEnd(), count: true };
      }
      case X.JMP:
        return { kind: 'jump', target: this.directTarget(), count: true };
      case X.CALL: {
        const t = this.directTarget();
        const next = this.insnEnd();
        this.push(() => vaddrConst(m, next));
        return { kind: 'jump', target: t, count: true };
      }
      case X.RET: {
        const sp = this.tmp(e.get(RSP));
        const t = this.tmp(e.load(8, false, sp(), this.k));
        this.canonicalOrResume(t);
        const adjust = 8 + (r[i + 7] === 1 ? r[i + 6]! >>> 0 : 0);
        this.emit(e.set(RSP, m.i64.add(sp(), c64(m, adjust, 0))));
        return { kind: 'indirect', target: t(), count: true };
      }
      case X.JMP_RM: {
        const t = this.tmp(this.readRm(8));
        this.canonicalOrResume(t);
        return { kind: 'indirect', target: t(), count: true };
      }
      case X.MOV_R_RM: {
        const v = this.readRm(size);
        this.emit(this.setReg(a, size, v));
        return null;
      }
      case X.MOV_RM_R:
      case X.MOV_RM_I: {
        const v = op === X.MOV_RM_R ? this.getReg(a, size) : size === 8 ? this.imm64() : this.imm(size);
        if (this.isMem()) this.emit(e.store(size as AccessSize, this.ea(), v, this.k));
        else this.emit(this.setReg(r[i + 3]!, size, v));
        return null;
      }
      case X.MOV_R_I:
        this.emit(this.setReg(a, size, size === 8 ? this.imm64() : this.imm(size)));
        return null;
      case X.MOVZX:
      case X.MOVSX: {
        let v = this.readRm(aux);
        if (op === X.MOVSX) v = sext(m, v, aux);
        this.emit(this.setReg(a, size, v));
        return null;
      }
      case X.LEA:
        this.emit(this.setReg(a, size, this.ea()));
        return null;
      case X.ALU_R_RM: {
        const bv = this.tmp(this.readRm(size));
        const av = this.tmp(this.getReg(a, size));
        this.alu(aux, size, av, bv, (v) => this.setReg(a, size, v));
        return null;
      }
      case X.ALU_RM_R:
      case X.ALU_RM_I: {
        const addr = this.addrRef();
        const av = this.tmp(this.readRm(size, addr));
        const bv = this.tmp(op === X.ALU_RM_R ? this.getReg(a, size) : this.imm(size));
        const write = (v: Expr): Expr => this.writeRm(size, addr, v);
        this.alu(aux, size, av, bv, write);
        return null;
      }
      case X.TEST_RM_R:
      case X.TEST_RM_I: {
        const av = this.tmp(this.readRm(size));
        const bv = this.tmp(op === X.TEST_RM_R ? this.getReg(a, size) : this.imm(size));
        this.alu(ALU_AND, size, av, bv, null);
        return null;
      }
      case X.UNARY: {
        if (aux === UN_INC || aux === UN_DEC) {
          const cf = carryFlag(e, this.known);
          const cfl = e.local(binaryen.i32);
          this.emit(m.local.set(cfl, cf));
          const addr = this.addrRef();
          const v = this.tmp(this.readRm(size, addr));
          const one = (): Expr => c64(m, 1, 0);
          const res = this.tmp(m.i64.and(aux === UN_INC ? m.i64.add(v(), one()) : m.i64.sub(v(), one()), sizeMask(m, size)));
          this.emit(this.writeRm(size, addr, res()));
          const kind = aux === UN_INC ? F_INC : F_DEC;
          this.emit(...setLazy(e, kind, size, res(), v(), one()));
          this.emit(e.set(S_FC, m.i64.extend_u(m.local.get(cfl, binaryen.i32))));
          this.known = { kind, size };
          return null;
        }
        if (aux === UN_MUL || aux === UN_IMUL) {
          lowerMul(this, size, aux === UN_IMUL);
          return null;
        }
        if (aux === UN_DIV || aux === UN_IDIV) {
          lowerDiv(this, size, aux === UN_IDIV);
          return null;
        }
        if (aux !== UN_NOT && aux !== UN_NEG) throw new Unsupported();
        const addr = this.addrRef();
        const v = this.tmp(this.readRm(size, addr));
        const write = (x: Expr): Expr => this.writeRm(size, addr, x);
        if (aux === UN_NOT) {
          this.emit(write(m.i64.and(m.i64.xor(v(), c64(m, -1, -1)), sizeMask(m, size))));
          return null;
        }
        this.alu(ALU_SUB, size, () => c64(m, 0, 0), v, write);
        return null;
      }
      case X.SHIFT_I:
      case X.SHIFT_CL:
      case X.SHXD_I:
      case X.SHXD_CL:
        lowerShift(this, op === X.SHIFT_CL || op === X.SHXD_CL, op === X.SHXD_I || op === X.SHXD_CL, size, aux);
        return null;
      case X.BSWAP: {
        const v = e.get(a);
        const m8 = c64(m, 0x00ff00ff, 0x00ff00ff);
        const m16 = c64(m, 0x0000ffff, 0x0000ffff);
        const x1 = this.tmp(m.i64.or(m.i64.and(m.i64.shr_u(v, c64(m, 8, 0)), m8), m.i64.shl(m.i64.and(e.get(a), c64(m, 0x00ff00ff, 0x00ff00ff)), c64(m, 8, 0))));
        const x2 = this.tmp(m.i64.or(m.i64.and(m.i64.shr_u(x1(), c64(m, 16, 0)), m16), m.i64.shl(m.i64.and(x1(), c64(m, 0x0000ffff, 0x0000ffff)), c64(m, 16, 0))));
        const x3 = m.i64.rotl(x2(), c64(m, 32, 0));
        // 64-bit: the full reversal; otherwise the low dword reversed (upper half cleared).
        this.emit(size === 8 ? e.set(a, x3) : e.set(a, m.i64.shr_u(x3, c64(m, 32, 0))));
        return null;
      }
      case X.CONVERT: {
        const rax = (): Expr => e.get(0);
        if (aux === 0) {
          if (size === 8) this.emit(e.set(0, m.i64.extend32_s(rax())));
          else if (size === 4) this.emit(this.setReg(0, 4, m.i64.extend16_s(rax())));
          else this.emit(this.setReg(0, 2, m.i64.extend8_s(rax())));
        } else if (size === 8) this.emit(e.set(2, m.i64.shr_s(rax(), c64(m, 63, 0))));
        else if (size === 4) this.emit(this.setReg(2, 4, m.i64.shr_s(m.i64.extend32_s(rax()), c64(m, 63, 0))));
        else this.emit(this.setReg(2, 2, m.i64.shr_s(m.i64.extend16_s(rax()), c64(m, 63, 0))));
        return null;
      }
      case X.XCHG: {
        const addr = this.addrRef();
        const mv = this.tmp(this.readRm(size, addr));
        const rv = this.tmp(this.getReg(a, size));
        this.emit(this.writeRm(size, addr, rv()));
        this.emit(this.setReg(a, size, mv()));
        return null;
      }
      case X.IMUL_R_RM:
      case X.IMUL_R_RM_I: {
        const bv = this.tmp(sext(m, this.readRm(size), size));
        const av = this.tmp(op === X.IMUL_R_RM ? sext(m, this.getReg(a, size), size) : sext(m, this.imm(size), size));
        const p = this.tmp(m.i64.mul(av(), bv()));
        let ov: Expr;
        if (size === 8) {
          const minusOne = m.i64.eq(av(), c64(m, -1, -1));
          const zero = m.i64.eqz(av());
          const divisor = m.select(m.i32.or(zero, m.i64.eq(av(), c64(m, -1, -1))), c64(m, 1, 0), av());
          const quotientOv = m.i32.and(m.i32.eqz(zero), m.i64.ne(m.i64.div_s(p(), divisor), bv()));
          ov = m.select(minusOne, m.i64.eq(bv(), c64(m, 0, 0x80000000)), quotientOv);
        } else ov = m.i64.ne(p(), sext(m, m.i64.and(p(), sizeMask(m, size)), size));
        const res = this.tmp(m.i64.and(p(), sizeMask(m, size)));
        const ovl = e.local(binaryen.i32);
        this.emit(m.local.set(ovl, ov));
        this.emit(this.setReg(a, size, res()));
        this.emit(...setRaw(e, rawFlags(e, size, res, m.select(m.local.get(ovl, binaryen.i32), m.i32.const(1), m.i32.const(0)), m.local.get(ovl, binaryen.i32))));
        this.known = { kind: F_RAW, size };
        return null;
      }
      case X.SETCC: {
        const c = this.cond(aux);
        const v = m.i64.extend_u(c);
        if (this.isMem()) this.emit(e.store(1, this.ea(), v, this.k));
        else this.emit(this.setReg(r[i + 3]!, 1, v));
        return null;
      }
      case X.CMOV: {
        const v = this.tmp(this.readRm(size));
        const c = this.cond(aux);
        const keep = size === 4 ? m.i64.and(e.get(a), c64(m, -1, 0)) : null;
        const set = this.setReg(a, size, v());
        this.emit(keep ? m.if(c, set, e.set(a, keep)) : m.if(c, set));
        return null;
      }
      case X.PUSH_R: {
        const v = this.tmp(e.get(a));
        this.push(v);
        return null;
      }
      case X.PUSH_I:
        this.push(() => this.imm64());
        return null;
      case X.POP_R: {
        const v = this.pop();
        this.emit(e.set(a, v()));
        return null;
      }
      case X.XADD: {
        // dest := dest + src, src := old dest (reg form: the dest write wins when they alias).
        const addr = this.addrRef();
        const d = this.tmp(this.readRm(size, addr));
        const sv = this.tmp(this.getReg(a, size));
        const res = this.tmp(m.i64.and(m.i64.add(d(), sv()), sizeMask(m, size)));
        if (this.isMem()) this.emit(this.writeRm(size, addr, res()), this.setReg(a, size, d()));
        else this.emit(this.setReg(a, size, d()), this.writeRm(size, addr, res()));
        this.emit(...setLazy(e, F_ADD, size, res(), d(), sv()), e.set(S_FC, c64(m, 0, 0)));
        this.known = { kind: F_ADD, size };
        return null;
      }
      case X.CMPXCHG: {
        // flags of cmp acc, dest; equal: dest := src; else dest := dest (written back), acc := dest.
        const addr = this.addrRef();
        const d = this.tmp(this.readRm(size, addr));
        const acc = this.tmp(this.getReg(0, size));
        const eq = this.tmp32(m.i64.eq(acc(), d()));
        const nv = this.tmp(m.select(eq(), this.getReg(a, size), d()));
        this.emit(this.writeRm(size, addr, nv()));
        this.emit(m.if(m.i32.eqz(eq()), this.setReg(0, size, d())));
        this.emit(...setLazy(e, F_SUB, size, m.i64.and(m.i64.sub(acc(), d()), sizeMask(m, size)), acc(), d()), e.set(S_FC, c64(m, 0, 0)));
        this.known = { kind: F_SUB, size };
        return null;
      }
      case X.PUSH_RM: {
        const v = this.tmp(this.readRm(8));
        this.push(v);
        return null;
      }
      case X.POP_RM: {
        // The operand's address uses rsp after the pop (SDM "POP"): rsp is advanced to compute
        // it and put back before the store, so an exit at the store leaves it as it was.
        const sp = this.tmp(e.get(RSP));
        const v = this.tmp(e.load(8, false, sp(), this.k));
        const nsp = (): Expr => m.i64.add(sp(), c64(m, 8, 0));
        if (this.isMem()) {
          this.emit(e.set(RSP, nsp()));
          const at = this.tmp(this.ea());
          this.emit(e.set(RSP, sp()));
          this.emit(e.store(8, at(), v(), this.k));
          this.emit(e.set(RSP, nsp()));
        } else this.emit(e.set(RSP, nsp()), this.setReg(r[i + 3]!, 8, v()));
        return null;
      }
      case X.CALL_RM: {
        const t = this.tmp(this.readRm(8));
        this.canonicalOrResume(t);
        const next = this.insnEnd();
        this.push(() => vaddrConst(m, next));
        return { kind: 'indirect', target: t(), count: true };
      }
      case X.LEAVE: {
        const v = this.tmp(e.load(8, false, e.get(RBP), this.k));
        this.emit(e.set(RSP, m.i64.add(e.get(RBP), c64(m, 8, 0))));
        this.emit(e.set(RBP, v()));
        return null;
      }
      default:
        throw new Unsupported();
    }
  }

  private setShiftLazy(res: Expr): Expr[] {
    const m = this.m;
    const e = this.e;
    return [e.set(S_FK, c64(m, F_SHIFT, 0)), e.set(S_FSZ, c64(m, 8, 0)), e.set(S_FR, res)];
  }
}

export class X86Translator implements ArchTranslator {
  readonly arch = 'x86_64' as const;
  readonly slotCount = X86_SLOTS;

  loadState(machine: Machine, w: Int32Array): void {
    if (!isX86(machine)) throw new RangeError('x86 translator on a non-x86 machine');
    w.set(machine.regs, 0);
    const fl = machine.fl;
    w[32] = fl[0]!;
    w[33] = 0;
    w[34] = fl[1]!;
    w[35] = 0;
    w[36] = fl[2]!;
    w[37] = fl[3]!;
    w[38] = fl[4]!;
    w[39] = fl[5]!;
    w[40] = fl[6]!;
    w[41] = fl[7]!;
    w[42] = fl[8]!;
    w[43] = 0;
    w[44] = fl[9]!;
    w[45] = 0;
  }

  storeState(machine: Machine, w: Int32Array): void {
    if (!isX86(machine)) throw new RangeError('x86 translator on a non-x86 machine');
    machine.regs.set(w.subarray(0, 32));
    const fl = machine.fl;
    fl[0] = w[32]!;
    fl[1] = w[34]!;
    fl[2] = w[36]!;
    fl[3] = w[37]!;
    fl[4] = w[38]!;
    fl[5] = w[39]!;
    fl[6] = w[40]!;
    fl[7] = w[41]!;
    fl[8] = w[42]!;
    fl[9] = w[44]!;
  }

  canEnter(): boolean {
    return true;
  }

  directTargets(block: GuestBlock): VAddr[] {
    const last = (block.first + block.count - 1) * REC_WORDS;
    const op = block.recs[last]!;
    const out = [block.pc + block.bytes];
    if (op === X.JCC || op === X.JCC_NZ || op === X.JCC_Z || op === X.JMP || op === X.CALL) {
      const t = vaddrFromPair(block.recs[last + 6]!, block.recs[last + 7]!);
      if (op === X.JMP || op === X.CALL) out.length = 0;
      out.unshift(t);
    } else if (op === X.RET || op === X.JMP_RM || op === X.CALL_RM || op === X.INT3 || op === X.UD2) out.length = 0;
    return out;
  }

  translateBlock(block: GuestBlock, e: BlockEmitter): BlockTranslation {
    return new BlockTx(block, e).run();
  }
}
