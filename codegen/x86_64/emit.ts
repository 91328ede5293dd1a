// x86_64 instruction appenders: `emitX(buf, operands..., opts?)` picks the form of table.ts that
// the operands select (Intel operand order: destination first) and writes it into a CodeBuffer.
//
// Invariants:
// - Without options every emitter chooses the encoding llvm-mc chooses for the same Intel-syntax
//   line (checked by the golden vectors): shortest immediate (83 ib before 81 id / acc forms),
//   D1 for a shift by 1, the MR form (89, 01, ...) for register-register operations.
// - Options force a fixed-length form for byte-exact or patchable output (bcachefs's unpacker,
//   reference/bkey.md §4): `{ imm: 'imm32' }` keeps a 4-byte immediate (the short accumulator form
//   `05 id`/`25 id` when the destination is al/ax/eax/rax, unless `acc: false`), `{ form: 'ib' }`
//   keeps `C1 /d ib` for a shift by 1, `disp32` on a memory operand keeps a 32-bit displacement.
// - Every check runs before the first byte is written: a failed emit leaves the buffer unchanged.
// - Fast paths (generated code's hot cases): when every operand is a 16/32/64-bit register or an
//   immediate inside the operand's limits, the emitter picks the same form and writes it with
//   emitFormRR (register numbers, no operand checks left to do); anything else, including every
//   operand the emitter rejects, takes the general path, which checks and throws.
// - Operand sizes must agree; a memory operand takes its size from the register operand, or from
//   `byte/word/dword/qword(...)` when no register fixes it (immediate and unary forms).

import type { CodeBuffer, Label, RelaxForce } from '../buffer.js';
import { type Form, type Mem, X86ImmediateError, X86OperandError, checkImm, emitForm, emitFormRR, isMem } from './encode.js';
import { type AnyReg, type Reg, type Reg16, type Reg32, type Reg64, type Reg8, regOfSize } from './regs.js';
import {
  ALU, type AluForms, type AluOp, BSWAP, CC, CC_ALIASES, CMOVCC, CMPXCHG, type Cond, IMUL_RM, IMUL_RMI, IMUL_RMI8, LEA, MOVSXD, MOVSX_B, MOVSX_W,
  MOVZX_B, MOVZX_W, MOV_MI, NOP, MOV_MR, MOV_OI, MOV_RM, type OpSize, SETCC, SHIFT, SHLD_CL, SHLD_IB, SHRD_CL, SHRD_IB, type ShiftOp,
  type Sized, TEST_ACC, TEST_MI, TEST_MR, UNARY, type UnaryOp, XADD, XCHG_ACC, XCHG_MR,
} from './table.js';

export type RM = AnyReg | Mem;

export interface ImmOptions {
  /** 'auto' = shortest (llvm-mc); 'imm8' = sign-extended imm8 or error; 'imm32' = 4-byte immediate. */
  imm?: 'auto' | 'imm8' | 'imm32';
  /** Use the accumulator short form (04/05, 0C/0D, ...) when the destination is al/ax/eax/rax (default true). */
  acc?: boolean;
  /** LOCK prefix (memory destination only). */
  lock?: boolean;
}

export interface LockOption {
  lock?: boolean;
}

// ----- operand helpers ---------------------------------------------------------------------------

function pick(s: Sized, size: number, insn: string, operand: string): Form {
  const f = s[size as OpSize];
  if (!f) throw new X86OperandError(insn, operand, `${size}-bit operand size is not encodable for ${insn}`);
  return f;
}

/** The operand size of r/m `x`; memory takes `regSize` (from the other operand) or its own size. */
function rmSize(insn: string, x: RM, regSize: number, operand: string): OpSize {
  if (!isMem(x)) {
    if (regSize !== 0 && x.size !== regSize) throw new X86OperandError(insn, operand, `${x.name} is ${x.size}-bit but the other operand is ${regSize}-bit`);
    return x.size;
  }
  if (regSize !== 0) {
    if (x.size !== 0 && x.size !== regSize) throw new X86OperandError(insn, operand, `memory operand is ${x.size}-bit but the register is ${regSize}-bit`);
    return regSize as OpSize;
  }
  if (x.size === 0) throw new X86OperandError(insn, operand, 'operand size unknown: wrap the memory operand in byte/word/dword/qword(...)');
  return x.size;
}

function needReg(insn: string, x: RM, operand: string): AnyReg {
  if (isMem(x)) throw new X86OperandError(insn, operand, 'must be a register');
  return x;
}

/** Sign-extended value of `imm` as an operand of `size` bits (0xffffffff as a 32-bit immediate is -1). */
function signedAs(imm: number, size: number): number {
  if (size === 32) return imm | 0;
  if (size === 16) return (imm << 16) >> 16;
  if (size === 8) return (imm << 24) >> 24;
  return imm;
}

const IMM_LIMITS: Record<OpSize, [number, number, string]> = {
  8: [-128, 255, 'an 8-bit immediate'],
  16: [-32768, 65535, 'a 16-bit immediate'],
  32: [-(2 ** 31), 2 ** 32 - 1, 'a 32-bit immediate'],
  64: [-(2 ** 31), 2 ** 31 - 1, 'a sign-extended 32-bit immediate (use movabs for 64-bit constants)'],
};

function checkSizedImm(f: Form, size: OpSize, imm: number): void {
  const lim = IMM_LIMITS[size];
  checkImm(f, 'immediate', imm, lim[0], lim[1], lim[2]);
}

// Fast paths: operands that are 16/32/64-bit registers (and immediates inside IMM_LIMITS) are
// encoded by emitFormRR with the form the general path would pick; everything else, including
// every operand the general path rejects, takes the general path (which checks and throws).

/** A 16-, 32- or 64-bit register: no memory operand, no byte register. */
function isWide(x: RM | number): x is Reg16 | Reg32 | Reg64 {
  return typeof x !== 'number' && (x as Mem).kind !== 'mem' && (x as AnyReg).size !== 8;
}

/** `imm` lies in IMM_LIMITS[size] (size 16, 32 or 64). */
function immFits(size: number, imm: number): boolean {
  const lim = IMM_LIMITS[size as OpSize];
  return imm >= lim[0] && imm <= lim[1] && Number.isInteger(imm);
}

/** Write LOCK before an instruction with a memory destination; returns the offset to undo to. */
function lockBegin(buf: CodeBuffer, dst: RM, insn: string): number {
  if (!isMem(dst)) throw new X86OperandError(insn, 'destination', 'LOCK needs a memory destination');
  const at = buf.linearLength;
  buf.put8(0xf0);
  return at;
}

/** Prefix order as llvm-mc writes it: operand-size 66 before LOCK (both orders are legal). */
function lockEnd(buf: CodeBuffer, at: number): void {
  if (buf.read8(at + 1) === 0x66) {
    buf.set8(at, 0x66);
    buf.set8(at + 1, 0xf0);
  }
}

export function condCode(c: Cond | string): number {
  const v = (CC as Record<string, number>)[c] ?? (CC as Record<string, number>)[CC_ALIASES[c] ?? ''];
  if (v === undefined) throw new X86OperandError('jcc/setcc/cmovcc', 'condition', `unknown condition code "${c}"`);
  return v;
}

// ----- MOV -----------------------------------------------------------------------------------------

/**
 * mov dst, src: r/r, r/m (load), m/r (store), r/imm, m/imm. r64/imm is `REX.W C7 /0` (sign-extended
 * imm32); r32/imm is `B8+rd id` (zero-extends to 64 bits); 64-bit constants need emitMovabs.
 */
export function emitMov(buf: CodeBuffer, dst: RM, src: RM | number): void {
  if (isWide(dst)) {
    const size = dst.size;
    if (typeof src === 'number') {
      if (immFits(size, src)) {
        emitFormRR(buf, size === 64 ? (MOV_MI[64] as Form) : (MOV_OI[size] as Form), -1, dst.num, src);
        return;
      }
    } else if (isWide(src) && src.size === size) {
      emitFormRR(buf, MOV_MR[size] as Form, src.num, dst.num, 0);
      return;
    }
  }
  if (typeof src === 'number') {
    if (isMem(dst)) {
      const size = rmSize('mov', dst, 0, 'destination');
      const f = MOV_MI[size] as Form;
      checkSizedImm(f, size, src);
      emitForm(buf, f, null, dst, src);
      return;
    }
    if (dst.size === 64) {
      const f = MOV_MI[64] as Form;
      checkSizedImm(f, 64, src);
      emitForm(buf, f, null, dst, src);
      return;
    }
    const f = MOV_OI[dst.size] as Form;
    checkSizedImm(f, dst.size, src);
    emitForm(buf, f, null, dst, src);
    return;
  }
  if (isMem(src)) {
    const d = needReg('mov', dst, 'destination');
    rmSize('mov', src, d.size, 'source');
    emitForm(buf, MOV_RM[d.size] as Form, d, src);
    return;
  }
  const size = rmSize('mov', dst, src.size, 'destination');
  emitForm(buf, MOV_MR[size] as Form, src, dst);
}

/** movabs r64, imm64 (`REX.W B8+rd io`), the constant as unsigned 32-bit halves. */
export function emitMovabs(buf: CodeBuffer, dst: Reg64, lo: number, hi: number): void {
  const f = MOV_OI[64] as Form;
  if (dst.size !== 64) throw new X86OperandError(f.insn, 'destination', `${(dst as Reg).name} is not a 64-bit register`);
  checkImm(f, 'immediate (low half)', lo, -(2 ** 31), 2 ** 32 - 1, 'a 32-bit half');
  checkImm(f, 'immediate (high half)', hi, -(2 ** 31), 2 ** 32 - 1, 'a 32-bit half');
  emitForm(buf, f, null, dst, lo, hi);
}

/**
 * Load a 64-bit constant with the shortest sequence, as Linux's emit_mov_imm64 does: 0 -> xor r32,r32
 * (clobbers flags), zero-extended u32 -> mov r32,imm32, sign-extended s32 -> mov r64,simm32, else movabs.
 */
export function emitLoadImm64(buf: CodeBuffer, dst: Reg64, lo: number, hi: number): void {
  lo >>>= 0;
  hi >>>= 0;
  const d32 = regOfSize(dst, 32);
  if (hi === 0 && lo === 0) emitAlu(buf, 'xor', d32, d32);
  else if (hi === 0) emitMov(buf, d32, lo);
  else if (hi === 0xffffffff && lo >= 0x80000000) emitMov(buf, dst, lo | 0);
  else emitMovabs(buf, dst, lo, hi);
}

/** movzx dst, r/m8 or r/m16 (memory operands must be byte(...) or word(...)). */
export function emitMovzx(buf: CodeBuffer, dst: Reg16 | Reg32 | Reg64, src: Reg8 | Reg16 | Mem): void {
  extend(buf, 'movzx', MOVZX_B, MOVZX_W, dst, src);
}

/** movsx dst, r/m8 or r/m16. */
export function emitMovsx(buf: CodeBuffer, dst: Reg16 | Reg32 | Reg64, src: Reg8 | Reg16 | Mem): void {
  extend(buf, 'movsx', MOVSX_B, MOVSX_W, dst, src);
}

function extend(buf: CodeBuffer, insn: string, fromB: Sized, fromW: Sized, dst: AnyReg, src: Reg8 | Reg16 | Mem): void {
  const from = isMem(src) ? src.size : src.size;
  if (from !== 8 && from !== 16) throw new X86OperandError(insn, 'source', isMem(src) ? 'memory operand must be byte(...) or word(...)' : `${src.name} is not an 8- or 16-bit register`);
  if (dst.size <= from) throw new X86OperandError(insn, 'destination', `${dst.name} is not wider than the ${from}-bit source`);
  emitForm(buf, pick(from === 8 ? fromB : fromW, dst.size, insn, 'destination'), dst, src);
}

/** movsxd r64, r/m32. */
export function emitMovsxd(buf: CodeBuffer, dst: Reg64, src: Reg32 | Mem): void {
  if (dst.size !== 64) throw new X86OperandError('movsxd', 'destination', `${(dst as Reg).name} is not a 64-bit register`);
  if (isMem(src)) rmSize('movsxd', src, 32, 'source');
  else if (src.size !== 32) throw new X86OperandError('movsxd', 'source', `${(src as Reg).name} is not a 32-bit register`);
  emitForm(buf, MOVSXD, dst, src);
}

// ----- ALU -----------------------------------------------------------------------------------------

/** op dst, src for add/or/adc/sbb/and/sub/xor/cmp: r/r, r/m, m/r, r/imm, m/imm. */
export function emitAlu(buf: CodeBuffer, op: AluOp, dst: RM, src: RM | number, opts?: ImmOptions): void {
  const forms = ALU[op];
  if (!forms) throw new X86OperandError(String(op), 'operation', `unknown ALU operation "${String(op)}"`);
  if (opts === undefined && isWide(dst)) {
    const size = dst.size;
    if (typeof src === 'number') {
      if (immFits(size, src)) {
        const v = signedAs(src, size);
        if (v >= -128 && v <= 127) emitFormRR(buf, forms.mi8[size] as Form, -1, dst.num, v);
        else emitFormRR(buf, dst.num === 0 ? (forms.acc[size] as Form) : (forms.mi[size] as Form), -1, dst.num, size === 64 ? v : src);
        return;
      }
    } else if (isWide(src) && src.size === size) {
      emitFormRR(buf, forms.mr[size] as Form, src.num, dst.num, 0);
      return;
    }
  }
  if (!opts?.lock) {
    aluBody(buf, forms, op, dst, src, opts);
    return;
  }
  const at = lockBegin(buf, dst, op);
  try {
    aluBody(buf, forms, op, dst, src, opts);
  } catch (e) {
    buf.truncate(at);
    throw e;
  }
  lockEnd(buf, at);
}

function aluBody(buf: CodeBuffer, forms: AluForms, op: AluOp, dst: RM, src: RM | number, opts: ImmOptions | undefined): void {
  if (typeof src === 'number') {
    const size = rmSize(op, dst, 0, 'destination');
    aluImm(buf, forms.acc, forms.mi, forms.mi8, op, size, dst, src, opts);
  } else if (isMem(src)) {
    const d = needReg(op, dst, 'destination');
    rmSize(op, src, d.size, 'source');
    emitForm(buf, forms.rm[d.size] as Form, d, src);
  } else {
    const size = rmSize(op, dst, src.size, 'destination');
    emitForm(buf, forms.mr[size] as Form, src, dst);
  }
}

function aluImm(buf: CodeBuffer, acc: Sized, mi: Sized, mi8: Sized, op: string, size: OpSize, dst: RM, imm: number, opts: ImmOptions | undefined): void {
  const mode = opts?.imm ?? 'auto';
  const full = mi[size] as Form;
  checkSizedImm(full, size, imm);
  const v = signedAs(imm, size);
  const fits8 = v >= -128 && v <= 127;
  const isAcc = !isMem(dst) && dst.num === 0 && !dst.high && opts?.acc !== false;
  if (size !== 8 && (mode === 'imm8' || (mode === 'auto' && fits8))) {
    if (!fits8) throw new X86ImmediateError((mi8[size] as Form).insn, 'immediate', imm, 'a sign-extended 8-bit immediate');
    emitForm(buf, mi8[size] as Form, null, dst, v);
    return;
  }
  if (size === 8 && mode === 'imm8' && !(imm >= -128 && imm <= 255)) throw new X86ImmediateError(full.insn, 'immediate', imm, 'an 8-bit immediate');
  if (mode === 'imm32' && size === 8) throw new X86OperandError(op, 'immediate', '8-bit operations have no 32-bit immediate form');
  const f = isAcc ? (acc[size] as Form) : full;
  emitForm(buf, f, null, isAcc ? null : dst, size === 64 ? v : imm);
}

export const emitAdd = (buf: CodeBuffer, dst: RM, src: RM | number, opts?: ImmOptions): void => emitAlu(buf, 'add', dst, src, opts);
export const emitOr = (buf: CodeBuffer, dst: RM, src: RM | number, opts?: ImmOptions): void => emitAlu(buf, 'or', dst, src, opts);
export const emitAdc = (buf: CodeBuffer, dst: RM, src: RM | number, opts?: ImmOptions): void => emitAlu(buf, 'adc', dst, src, opts);
export const emitSbb = (buf: CodeBuffer, dst: RM, src: RM | number, opts?: ImmOptions): void => emitAlu(buf, 'sbb', dst, src, opts);
export const emitAnd = (buf: CodeBuffer, dst: RM, src: RM | number, opts?: ImmOptions): void => emitAlu(buf, 'and', dst, src, opts);
export const emitSub = (buf: CodeBuffer, dst: RM, src: RM | number, opts?: ImmOptions): void => emitAlu(buf, 'sub', dst, src, opts);
export const emitXor = (buf: CodeBuffer, dst: RM, src: RM | number, opts?: ImmOptions): void => emitAlu(buf, 'xor', dst, src, opts);
export const emitCmp = (buf: CodeBuffer, dst: RM, src: RM | number, opts?: ImmOptions): void => emitAlu(buf, 'cmp', dst, src, opts);

/** test a, b: r/r, m/r, r/imm, m/imm (TEST has no imm8 form; the accumulator form A8/A9 when a is al/ax/eax/rax). */
export function emitTest(buf: CodeBuffer, a: RM, b: AnyReg | number, opts?: { acc?: boolean }): void {
  if (isWide(a)) {
    const size = a.size;
    if (typeof b === 'number') {
      if (immFits(size, b)) {
        const isAcc = a.num === 0 && opts?.acc !== false;
        emitFormRR(buf, isAcc ? (TEST_ACC[size] as Form) : (TEST_MI[size] as Form), -1, a.num, b);
        return;
      }
    } else if (isWide(b) && b.size === size) {
      emitFormRR(buf, TEST_MR[size] as Form, b.num, a.num, 0);
      return;
    }
  }
  if (typeof b === 'number') {
    const size = rmSize('test', a, 0, 'first operand');
    const full = TEST_MI[size] as Form;
    checkSizedImm(full, size, b);
    const isAcc = !isMem(a) && a.num === 0 && !a.high && opts?.acc !== false;
    emitForm(buf, isAcc ? (TEST_ACC[size] as Form) : full, null, isAcc ? null : a, b);
    return;
  }
  const size = rmSize('test', a, b.size, 'first operand');
  emitForm(buf, TEST_MR[size] as Form, b, a);
}

// ----- multiply, divide, unary ----------------------------------------------------------------------

/** not/neg/mul/imul/div/idiv/inc/dec r/m (memory operands need a size). */
export function emitUnary(buf: CodeBuffer, op: UnaryOp, rm: RM, opts?: LockOption): void {
  const forms = UNARY[op];
  if (!forms) throw new X86OperandError(String(op), 'operation', `unknown unary operation "${String(op)}"`);
  if (!opts?.lock && isWide(rm)) {
    emitFormRR(buf, forms[rm.size] as Form, -1, rm.num, 0);
    return;
  }
  if (!opts?.lock) {
    emitForm(buf, forms[rmSize(op, rm, 0, 'operand')] as Form, null, rm);
    return;
  }
  const at = lockBegin(buf, rm, op);
  try {
    emitForm(buf, forms[rmSize(op, rm, 0, 'operand')] as Form, null, rm);
  } catch (e) {
    buf.truncate(at);
    throw e;
  }
  lockEnd(buf, at);
}

export const emitNot = (buf: CodeBuffer, rm: RM, opts?: LockOption): void => emitUnary(buf, 'not', rm, opts);
export const emitNeg = (buf: CodeBuffer, rm: RM, opts?: LockOption): void => emitUnary(buf, 'neg', rm, opts);
export const emitMul = (buf: CodeBuffer, rm: RM): void => emitUnary(buf, 'mul', rm);
export const emitDiv = (buf: CodeBuffer, rm: RM): void => emitUnary(buf, 'div', rm);
export const emitIdiv = (buf: CodeBuffer, rm: RM): void => emitUnary(buf, 'idiv', rm);
export const emitInc = (buf: CodeBuffer, rm: RM, opts?: LockOption): void => emitUnary(buf, 'inc', rm, opts);
export const emitDec = (buf: CodeBuffer, rm: RM, opts?: LockOption): void => emitUnary(buf, 'dec', rm, opts);

/** imul dst, src (two operands, 16/32/64-bit). One-operand imul: emitUnary(buf, 'imul', rm). */
export function emitImul(buf: CodeBuffer, dst: Reg16 | Reg32 | Reg64, src: RM): void {
  if (isWide(dst) && isWide(src) && src.size === dst.size) {
    emitFormRR(buf, IMUL_RM[dst.size] as Form, dst.num, src.num, 0);
    return;
  }
  rmSize('imul', src, dst.size, 'source');
  emitForm(buf, pick(IMUL_RM, dst.size, 'imul', 'destination'), dst, src);
}

/** imul dst, src, imm (6B ib when the immediate fits imm8, else 69 id). */
export function emitImul3(buf: CodeBuffer, dst: Reg16 | Reg32 | Reg64, src: RM, imm: number, opts?: ImmOptions): void {
  if (opts === undefined && isWide(dst) && isWide(src) && src.size === dst.size && immFits(dst.size, imm)) {
    const v = signedAs(imm, dst.size);
    if (v >= -128 && v <= 127) emitFormRR(buf, IMUL_RMI8[dst.size] as Form, dst.num, src.num, v);
    else emitFormRR(buf, IMUL_RMI[dst.size] as Form, dst.num, src.num, dst.size === 64 ? v : imm);
    return;
  }
  rmSize('imul', src, dst.size, 'source');
  const full = pick(IMUL_RMI, dst.size, 'imul', 'destination');
  checkSizedImm(full, dst.size, imm);
  const v = signedAs(imm, dst.size);
  const mode = opts?.imm ?? 'auto';
  const fits8 = v >= -128 && v <= 127;
  if (mode === 'imm8' && !fits8) throw new X86ImmediateError((IMUL_RMI8[dst.size] as Form).insn, 'immediate', imm, 'a sign-extended 8-bit immediate');
  if (fits8 && mode !== 'imm32') emitForm(buf, IMUL_RMI8[dst.size] as Form, dst, src, v);
  else emitForm(buf, full, dst, src, dst.size === 64 ? v : imm);
}

// ----- shifts -----------------------------------------------------------------------------------------

export interface ShiftOptions {
  /** 'auto': D1 /d for a count of 1 (as llvm-mc); 'ib': always C1 /d ib (bcachefs's fixed forms). */
  form?: 'auto' | 'ib';
}

/** rol/ror/rcl/rcr/shl/shr/sar r/m, imm8 or cl. */
export function emitShift(buf: CodeBuffer, op: ShiftOp, rm: RM, count: number | Reg8, opts?: ShiftOptions): void {
  const forms = SHIFT[op];
  if (!forms) throw new X86OperandError(String(op), 'operation', `unknown shift "${String(op)}"`);
  if (isWide(rm)) {
    const sz = rm.size;
    if (typeof count === 'number') {
      if (Number.isInteger(count) && count >= 0 && count <= (sz === 64 ? 63 : 31)) {
        if (count === 1 && opts?.form !== 'ib') emitFormRR(buf, forms.one[sz] as Form, -1, rm.num, 0);
        else emitFormRR(buf, forms.ib[sz] as Form, -1, rm.num, count);
        return;
      }
    } else if (count.size === 8 && count.num === 1 && !count.high) {
      emitFormRR(buf, forms.cl[sz] as Form, -1, rm.num, 0);
      return;
    }
  }
  const size = rmSize(op, rm, 0, 'operand');
  if (typeof count !== 'number') {
    if (count.size !== 8 || count.num !== 1 || count.high) throw new X86OperandError(op, 'count', `a shift count register must be cl, not ${count.name}`);
    emitForm(buf, forms.cl[size] as Form, null, rm);
    return;
  }
  const max = size === 64 ? 63 : 31;
  checkImm(forms.ib[size] as Form, 'count', count, 0, max, `a shift count 0..${max}`);
  if (count === 1 && opts?.form !== 'ib') emitForm(buf, forms.one[size] as Form, null, rm);
  else emitForm(buf, forms.ib[size] as Form, null, rm, count);
}

export const emitShl = (buf: CodeBuffer, rm: RM, count: number | Reg8, opts?: ShiftOptions): void => emitShift(buf, 'shl', rm, count, opts);
export const emitShr = (buf: CodeBuffer, rm: RM, count: number | Reg8, opts?: ShiftOptions): void => emitShift(buf, 'shr', rm, count, opts);
export const emitSar = (buf: CodeBuffer, rm: RM, count: number | Reg8, opts?: ShiftOptions): void => emitShift(buf, 'sar', rm, count, opts);
export const emitRol = (buf: CodeBuffer, rm: RM, count: number | Reg8, opts?: ShiftOptions): void => emitShift(buf, 'rol', rm, count, opts);
export const emitRor = (buf: CodeBuffer, rm: RM, count: number | Reg8, opts?: ShiftOptions): void => emitShift(buf, 'ror', rm, count, opts);

function doubleShift(buf: CodeBuffer, insn: string, ib: Sized, byCl: Sized, dst: RM, src: Reg16 | Reg32 | Reg64, count: number | Reg8): void {
  const size = rmSize(insn, dst, src.size, 'destination');
  if (typeof count !== 'number') {
    if (count.size !== 8 || count.num !== 1 || count.high) throw new X86OperandError(insn, 'count', `a shift count register must be cl, not ${count.name}`);
    emitForm(buf, pick(byCl, size, insn, 'destination'), src, dst);
    return;
  }
  const f = pick(ib, size, insn, 'destination');
  const max = size === 64 ? 63 : 31;
  checkImm(f, 'count', count, 0, max, `a shift count 0..${max}`);
  emitForm(buf, f, src, dst, count);
}

/** shld dst, src, imm8|cl. */
export function emitShld(buf: CodeBuffer, dst: RM, src: Reg16 | Reg32 | Reg64, count: number | Reg8): void {
  doubleShift(buf, 'shld', SHLD_IB, SHLD_CL, dst, src, count);
}

/** shrd dst, src, imm8|cl. */
export function emitShrd(buf: CodeBuffer, dst: RM, src: Reg16 | Reg32 | Reg64, count: number | Reg8): void {
  doubleShift(buf, 'shrd', SHRD_IB, SHRD_CL, dst, src, count);
}

// ----- byte swap, exchange, atomics -------------------------------------------------------------------

export function emitBswap(buf: CodeBuffer, r: Reg32 | Reg64): void {
  emitForm(buf, pick(BSWAP, r.size, 'bswap', 'operand'), null, r);
}

/** xchg a, b (90+r when one register operand is the accumulator, as llvm-mc; xchg eax,eax is 87 c0, xchg rax,rax is 90). */
export function emitXchg(buf: CodeBuffer, a: RM, b: RM): void {
  if (!isMem(a) && !isMem(b)) {
    const size = rmSize('xchg', a, b.size, 'first operand');
    if (size === 64 && a.num === 0 && b.num === 0) {
      emitForm(buf, NOP, null, null); // llvm-mc: xchg rax,rax is the one-byte 90
      return;
    }
    if (size !== 8 && (a.num === 0 || b.num === 0) && !(size === 32 && a.num === 0 && b.num === 0)) {
      emitForm(buf, XCHG_ACC[size] as Form, null, a.num === 0 ? b : a);
      return;
    }
    emitForm(buf, XCHG_MR[size] as Form, a, b);
    return;
  }
  const m = isMem(a) ? a : (b as Mem);
  const r = needReg('xchg', isMem(a) ? b : a, 'register operand');
  rmSize('xchg', m, r.size, 'memory operand');
  emitForm(buf, XCHG_MR[r.size] as Form, r, m);
}

/** [lock] xadd r/m, r. */
export function emitXadd(buf: CodeBuffer, dst: RM, src: AnyReg, opts?: LockOption): void {
  lockable(buf, XADD, 'xadd', dst, src, opts);
}

/** [lock] cmpxchg r/m, r (compares with al/ax/eax/rax). */
export function emitCmpxchg(buf: CodeBuffer, dst: RM, src: AnyReg, opts?: LockOption): void {
  lockable(buf, CMPXCHG, 'cmpxchg', dst, src, opts);
}

function lockable(buf: CodeBuffer, forms: Sized, insn: string, dst: RM, src: AnyReg, opts: LockOption | undefined): void {
  const f = forms[rmSize(insn, dst, src.size, 'destination')] as Form;
  if (!opts?.lock) {
    emitForm(buf, f, src, dst);
    return;
  }
  const at = lockBegin(buf, dst, insn);
  try {
    emitForm(buf, f, src, dst);
  } catch (e) {
    buf.truncate(at);
    throw e;
  }
  lockEnd(buf, at);
}

// ----- lea, setcc, cmovcc ------------------------------------------------------------------------------

export function emitLea(buf: CodeBuffer, dst: Reg16 | Reg32 | Reg64, m: Mem): void {
  if (!isMem(m)) throw new X86OperandError('lea', 'source', 'must be a memory operand');
  emitForm(buf, pick(LEA, dst.size, 'lea', 'destination'), dst, m);
}

export function emitSetcc(buf: CodeBuffer, cond: Cond, dst: Reg8 | Mem): void {
  const cc = condCode(cond);
  rmSize(`set${cond}`, dst, 8, 'destination');
  emitForm(buf, SETCC, null, dst, 0, 0, cc);
}

export function emitCmov(buf: CodeBuffer, cond: Cond, dst: Reg16 | Reg32 | Reg64, src: RM): void {
  const cc = condCode(cond);
  rmSize(`cmov${cond}`, src, dst.size, 'source');
  emitForm(buf, pick(CMOVCC, dst.size, `cmov${cond}`, 'destination'), dst, src, 0, 0, cc);
}

export type { Reg, Label, RelaxForce };
