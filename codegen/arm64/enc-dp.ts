// Pure A64 encoders for data processing: add/sub, logical, moves, bitfields, shifts, multiply,
// divide, bit reversal, conditional select. Each `encX` validates every operand, then returns the
// 32-bit instruction word (an unsigned number); it never touches a buffer.
//
// Width: the destination register (or the first operand for compares) sets sf; every other
// register must have the same width unless the manual says otherwise (extended-register Rm,
// SXTB Xd, Wn...). `NoInfer` makes a width mismatch a type error; the `rz`/`rsp` checks make it a
// RegisterClassError for untyped callers. Aliases are the Arm ARM's ("LSL (immediate): alias of
// UBFM", C6.2) so they decode to the mnemonic llvm-mc and Capstone print.

import {
  ADDSUB, ADDSUB_EXT_BASE, ADDSUB_IMM_BASE, ADDSUB_SHIFTED_BASE, BITFIELD, BITFIELD_BASE, COND, CSEL, CSEL_BASE,
  DP1, DP1_BASE, DP2, DP2_BASE, DP3, DP3_BASE, EXTEND, EXTR_BASE, LOGICAL, LOGICAL_IMM_BASE, LOGICAL_SHIFTED_BASE,
  MOVE_WIDE, MOVE_WIDE_BASE, SHIFT,
  type AddSubOp, type BitfieldOp, type Cond, type CselOp, type Dp1Op, type Dp2Op, type Dp3Op, type Extend,
  type LogicalImmOp, type LogicalOp, type MoveWideOp, type Shift,
} from './tables.js';
import { pick, rsp, rz, sf, uimm, urange } from './check.js';
import { ImmediateRangeError, RegisterClassError } from './errors.js';
import { encodeLogicalImmediate } from './bitmask.js';
import { hex64 } from '../../support/u64.js';
import { WZR, XREGS, XZR, type Reg, type RegSize, type RSp, type RZr } from './regs.js';

// ------------------------------------------------------------------------------------------------
// Add / subtract

/** ADD/ADDS/SUB/SUBS (immediate): imm12, optionally shifted left by 12. ADDS/SUBS write Rd as ZR. */
export function encAddSubImm<S extends RegSize>(op: AddSubOp, rd: Reg<S>, rn: RSp<NoInfer<S>>, imm12: number, shift: 0 | 12 = 0): number {
  const row = pick(op, 'op', ADDSUB, op);
  const size = rd.size;
  const d = row.s ? rz(op, 'rd', rd, size) : rsp(op, 'rd', rd, size);
  const n = rsp(op, 'rn', rn, size);
  const imm = uimm(op, 'imm', imm12, 12);
  if (shift !== 0 && shift !== 12) throw new ImmediateRangeError(op, 'shift', shift, '0 or 12');
  return ((sf(rd) << 31) | (row.op << 30) | (row.s << 29) | ADDSUB_IMM_BASE | (shift === 12 ? 1 << 22 : 0) | (imm << 10) | (n << 5) | d) >>> 0;
}

export const encAddImm = <S extends RegSize>(rd: RSp<S>, rn: RSp<NoInfer<S>>, imm12: number, shift: 0 | 12 = 0): number => encAddSubImm('add', rd, rn, imm12, shift);
export const encSubImm = <S extends RegSize>(rd: RSp<S>, rn: RSp<NoInfer<S>>, imm12: number, shift: 0 | 12 = 0): number => encAddSubImm('sub', rd, rn, imm12, shift);
export const encAddsImm = <S extends RegSize>(rd: RZr<S>, rn: RSp<NoInfer<S>>, imm12: number, shift: 0 | 12 = 0): number => encAddSubImm('adds', rd, rn, imm12, shift);
export const encSubsImm = <S extends RegSize>(rd: RZr<S>, rn: RSp<NoInfer<S>>, imm12: number, shift: 0 | 12 = 0): number => encAddSubImm('subs', rd, rn, imm12, shift);

/** ADD/ADDS/SUB/SUBS (shifted register): Rm shifted by lsl/lsr/asr #amount (0..size-1). */
export function encAddSubReg<S extends RegSize>(op: AddSubOp, rd: RZr<S>, rn: RZr<NoInfer<S>>, rm: RZr<NoInfer<S>>, shift: Shift = 'lsl', amount = 0): number {
  const row = pick(op, 'op', ADDSUB, op);
  const size = rd.size;
  const d = rz(op, 'rd', rd, size), n = rz(op, 'rn', rn, size), m = rz(op, 'rm', rm, size);
  if (shift === 'ror') throw new ImmediateRangeError(op, 'shift', shift, 'lsl, lsr or asr');
  const sh = pick(op, 'shift', SHIFT, shift);
  const amt = uimm(op, 'amount', amount, size === 64 ? 6 : 5);
  return ((sf(rd) << 31) | (row.op << 30) | (row.s << 29) | ADDSUB_SHIFTED_BASE | (sh << 22) | (m << 16) | (amt << 10) | (n << 5) | d) >>> 0;
}

export const encAddReg = <S extends RegSize>(rd: RZr<S>, rn: RZr<NoInfer<S>>, rm: RZr<NoInfer<S>>, shift: Shift = 'lsl', amount = 0): number => encAddSubReg('add', rd, rn, rm, shift, amount);
export const encSubReg = <S extends RegSize>(rd: RZr<S>, rn: RZr<NoInfer<S>>, rm: RZr<NoInfer<S>>, shift: Shift = 'lsl', amount = 0): number => encAddSubReg('sub', rd, rn, rm, shift, amount);
export const encAddsReg = <S extends RegSize>(rd: RZr<S>, rn: RZr<NoInfer<S>>, rm: RZr<NoInfer<S>>, shift: Shift = 'lsl', amount = 0): number => encAddSubReg('adds', rd, rn, rm, shift, amount);
export const encSubsReg = <S extends RegSize>(rd: RZr<S>, rn: RZr<NoInfer<S>>, rm: RZr<NoInfer<S>>, shift: Shift = 'lsl', amount = 0): number => encAddSubReg('subs', rd, rn, rm, shift, amount);

/**
 * ADD/ADDS/SUB/SUBS (extended register): Rm extended by uxtb..sxtx then shifted left by 0..4.
 * Rm is a W register for b/h/w extends and an X register for uxtx/sxtx (64-bit forms); Rd (non-S)
 * and Rn may be SP.
 */
export function encAddSubExt<S extends RegSize>(op: AddSubOp, rd: Reg<S>, rn: RSp<NoInfer<S>>, rm: RZr, extend: Extend, amount = 0): number {
  const row = pick(op, 'op', ADDSUB, op);
  const size = rd.size;
  const d = row.s ? rz(op, 'rd', rd, size) : rsp(op, 'rd', rd, size);
  const n = rsp(op, 'rn', rn, size);
  const opt = pick(op, 'extend', EXTEND, extend);
  const mSize: RegSize = size === 64 && (opt & 3) === 3 ? 64 : 32;
  const m = rz(op, 'rm', rm, mSize);
  const amt = urange(op, 'amount', amount, 0, 4);
  return ((sf(rd) << 31) | (row.op << 30) | (row.s << 29) | ADDSUB_EXT_BASE | (m << 16) | (opt << 13) | (amt << 10) | (n << 5) | d) >>> 0;
}

/** CMP (immediate) = SUBS ZR, Rn, #imm; CMN = ADDS. */
export const encCmpImm = <S extends RegSize>(rn: RSp<S>, imm12: number, shift: 0 | 12 = 0): number => encAddSubImm('subs', zrOf(rn), rn, imm12, shift);
export const encCmnImm = <S extends RegSize>(rn: RSp<S>, imm12: number, shift: 0 | 12 = 0): number => encAddSubImm('adds', zrOf(rn), rn, imm12, shift);
export const encCmpReg = <S extends RegSize>(rn: RZr<S>, rm: RZr<NoInfer<S>>, shift: Shift = 'lsl', amount = 0): number => encAddSubReg('subs', zrOf(rn), rn, rm, shift, amount);
export const encCmnReg = <S extends RegSize>(rn: RZr<S>, rm: RZr<NoInfer<S>>, shift: Shift = 'lsl', amount = 0): number => encAddSubReg('adds', zrOf(rn), rn, rm, shift, amount);
/** NEG Rd, Rm{, shift #amount} = SUB Rd, ZR, Rm. */
export const encNeg = <S extends RegSize>(rd: RZr<S>, rm: RZr<NoInfer<S>>, shift: Shift = 'lsl', amount = 0): number => encAddSubReg('sub', rd, zrOf(rd), rm, shift, amount);

function zrOf<S extends RegSize>(r: Reg<S>): Reg<S, 'zr'> {
  return (r.size === 64 ? XZR : WZR) as unknown as Reg<S, 'zr'>;
}

// ------------------------------------------------------------------------------------------------
// Logical

/** AND/ORR/EOR/ANDS (immediate) with a bitmask immediate (lo, hi); hi must be 0 for W forms. */
export function encLogicalImm<S extends RegSize>(op: LogicalImmOp, rd: Reg<S>, rn: RZr<NoInfer<S>>, lo: number, hi = 0): number {
  const row = pick(op, 'op', LOGICAL, op);
  if (row.n !== 0) throw new ImmediateRangeError(op, 'op', op, 'and, orr, eor or ands');
  const size = rd.size;
  const d = op === 'ands' ? rz(op, 'rd', rd, size) : rsp(op, 'rd', rd, size);
  const n = rz(op, 'rn', rn, size);
  const field = encodeLogicalImmediate(lo, hi, size === 64);
  if (field < 0) {
    throw new ImmediateRangeError(op, 'imm', size === 64 ? hex64(lo >>> 0, hi >>> 0) : '0x' + (lo >>> 0).toString(16), `a ${size}-bit bitmask immediate`);
  }
  return ((sf(rd) << 31) | (row.opc << 29) | LOGICAL_IMM_BASE | (field << 10) | (n << 5) | d) >>> 0;
}

export const encAndImm = <S extends RegSize>(rd: RSp<S>, rn: RZr<NoInfer<S>>, lo: number, hi = 0): number => encLogicalImm('and', rd, rn, lo, hi);
export const encOrrImm = <S extends RegSize>(rd: RSp<S>, rn: RZr<NoInfer<S>>, lo: number, hi = 0): number => encLogicalImm('orr', rd, rn, lo, hi);
export const encEorImm = <S extends RegSize>(rd: RSp<S>, rn: RZr<NoInfer<S>>, lo: number, hi = 0): number => encLogicalImm('eor', rd, rn, lo, hi);
export const encAndsImm = <S extends RegSize>(rd: RZr<S>, rn: RZr<NoInfer<S>>, lo: number, hi = 0): number => encLogicalImm('ands', rd, rn, lo, hi);
/** TST (immediate) = ANDS ZR, Rn, #imm. */
export const encTstImm = <S extends RegSize>(rn: RZr<S>, lo: number, hi = 0): number => encLogicalImm('ands', zrOf(rn), rn, lo, hi);

/** AND/BIC/ORR/ORN/EOR/EON/ANDS/BICS (shifted register), shift lsl/lsr/asr/ror #0..size-1. */
export function encLogicalReg<S extends RegSize>(op: LogicalOp, rd: RZr<S>, rn: RZr<NoInfer<S>>, rm: RZr<NoInfer<S>>, shift: Shift = 'lsl', amount = 0): number {
  const row = pick(op, 'op', LOGICAL, op);
  const size = rd.size;
  const d = rz(op, 'rd', rd, size), n = rz(op, 'rn', rn, size), m = rz(op, 'rm', rm, size);
  const sh = pick(op, 'shift', SHIFT, shift);
  const amt = uimm(op, 'amount', amount, size === 64 ? 6 : 5);
  return ((sf(rd) << 31) | (row.opc << 29) | LOGICAL_SHIFTED_BASE | (sh << 22) | (row.n << 21) | (m << 16) | (amt << 10) | (n << 5) | d) >>> 0;
}

export const encAndReg = <S extends RegSize>(rd: RZr<S>, rn: RZr<NoInfer<S>>, rm: RZr<NoInfer<S>>, shift: Shift = 'lsl', amount = 0): number => encLogicalReg('and', rd, rn, rm, shift, amount);
export const encOrrReg = <S extends RegSize>(rd: RZr<S>, rn: RZr<NoInfer<S>>, rm: RZr<NoInfer<S>>, shift: Shift = 'lsl', amount = 0): number => encLogicalReg('orr', rd, rn, rm, shift, amount);
export const encEorReg = <S extends RegSize>(rd: RZr<S>, rn: RZr<NoInfer<S>>, rm: RZr<NoInfer<S>>, shift: Shift = 'lsl', amount = 0): number => encLogicalReg('eor', rd, rn, rm, shift, amount);
export const encAndsReg = <S extends RegSize>(rd: RZr<S>, rn: RZr<NoInfer<S>>, rm: RZr<NoInfer<S>>, shift: Shift = 'lsl', amount = 0): number => encLogicalReg('ands', rd, rn, rm, shift, amount);
export const encBicReg = <S extends RegSize>(rd: RZr<S>, rn: RZr<NoInfer<S>>, rm: RZr<NoInfer<S>>, shift: Shift = 'lsl', amount = 0): number => encLogicalReg('bic', rd, rn, rm, shift, amount);
/** TST (shifted register) = ANDS ZR, Rn, Rm. */
export const encTstReg = <S extends RegSize>(rn: RZr<S>, rm: RZr<NoInfer<S>>, shift: Shift = 'lsl', amount = 0): number => encLogicalReg('ands', zrOf(rn), rn, rm, shift, amount);
/** MOV (register) = ORR Rd, ZR, Rm (neither may be SP; use encMovSp for SP). */
export const encMovReg = <S extends RegSize>(rd: RZr<S>, rm: RZr<NoInfer<S>>): number => encLogicalReg('orr', rd, zrOf(rd), rm);
/** MOV (to/from SP) = ADD Rd, Rn, #0. */
export const encMovSp = <S extends RegSize>(rd: RSp<S>, rn: RSp<NoInfer<S>>): number => encAddSubImm('add', rd, rn, 0);
/** MVN Rd, Rm = ORN Rd, ZR, Rm. */
export const encMvn = <S extends RegSize>(rd: RZr<S>, rm: RZr<NoInfer<S>>, shift: Shift = 'lsl', amount = 0): number => encLogicalReg('orn', rd, zrOf(rd), rm, shift, amount);

// ------------------------------------------------------------------------------------------------
// Move wide

/** MOVN/MOVZ/MOVK Rd, #imm16, lsl #shift (shift 0/16 for W; 0/16/32/48 for X). */
export function encMoveWide<S extends RegSize>(op: MoveWideOp, rd: RZr<S>, imm16: number, shift = 0): number {
  const opc = pick(op, 'op', MOVE_WIDE, op);
  const size = rd.size;
  const d = rz(op, 'rd', rd, size);
  const imm = uimm(op, 'imm', imm16, 16);
  if (!(shift === 0 || shift === 16 || (size === 64 && (shift === 32 || shift === 48)))) {
    throw new ImmediateRangeError(op, 'shift', shift, size === 64 ? '0, 16, 32 or 48' : '0 or 16');
  }
  return ((sf(rd) << 31) | (opc << 29) | MOVE_WIDE_BASE | ((shift >>> 4) << 21) | (imm << 5) | d) >>> 0;
}

export const encMovz = <S extends RegSize>(rd: RZr<S>, imm16: number, shift = 0): number => encMoveWide('movz', rd, imm16, shift);
export const encMovn = <S extends RegSize>(rd: RZr<S>, imm16: number, shift = 0): number => encMoveWide('movn', rd, imm16, shift);
export const encMovk = <S extends RegSize>(rd: RZr<S>, imm16: number, shift = 0): number => encMoveWide('movk', rd, imm16, shift);

// ------------------------------------------------------------------------------------------------
// Bitfield, extract, shifts

/** SBFM/BFM/UBFM Rd, Rn, #immr, #imms (each 0..size-1). */
export function encBitfield<S extends RegSize>(op: BitfieldOp, rd: RZr<S>, rn: RZr<NoInfer<S>>, immr: number, imms: number, name: string = op): number {
  const opc = pick(name, 'op', BITFIELD, op);
  const size = rd.size;
  const d = rz(name, 'rd', rd, size), n = rz(name, 'rn', rn, size);
  const bits = size === 64 ? 6 : 5;
  const r = uimm(name, 'immr', immr, bits), s = uimm(name, 'imms', imms, bits);
  const sfb = sf(rd);
  return ((sfb << 31) | (opc << 29) | BITFIELD_BASE | (sfb << 22) | (r << 16) | (s << 10) | (n << 5) | d) >>> 0;
}

export const encUbfm = <S extends RegSize>(rd: RZr<S>, rn: RZr<NoInfer<S>>, immr: number, imms: number): number => encBitfield('ubfm', rd, rn, immr, imms);
export const encSbfm = <S extends RegSize>(rd: RZr<S>, rn: RZr<NoInfer<S>>, immr: number, imms: number): number => encBitfield('sbfm', rd, rn, immr, imms);
export const encBfm = <S extends RegSize>(rd: RZr<S>, rn: RZr<NoInfer<S>>, immr: number, imms: number): number => encBitfield('bfm', rd, rn, immr, imms);

function shiftAmount(insn: string, size: RegSize, v: number): number {
  return urange(insn, 'shift', v, 0, size - 1);
}
/** Checks lsb in 0..size-1 and width in 1..size-lsb. */
function field(insn: string, size: RegSize, lsb: number, width: number): void {
  urange(insn, 'lsb', lsb, 0, size - 1);
  urange(insn, 'width', width, 1, size - lsb);
}

/** LSL Rd, Rn, #sh = UBFM Rd, Rn, #(-sh mod size), #(size-1-sh). */
export function encLslImm<S extends RegSize>(rd: RZr<S>, rn: RZr<NoInfer<S>>, sh: number): number {
  const size = rd.size;
  shiftAmount('lsl', size, sh);
  return encBitfield('ubfm', rd, rn, (size - sh) % size, size - 1 - sh, 'lsl');
}
/** LSR Rd, Rn, #sh = UBFM Rd, Rn, #sh, #(size-1). */
export function encLsrImm<S extends RegSize>(rd: RZr<S>, rn: RZr<NoInfer<S>>, sh: number): number {
  shiftAmount('lsr', rd.size, sh);
  return encBitfield('ubfm', rd, rn, sh, rd.size - 1, 'lsr');
}
/** ASR Rd, Rn, #sh = SBFM Rd, Rn, #sh, #(size-1). */
export function encAsrImm<S extends RegSize>(rd: RZr<S>, rn: RZr<NoInfer<S>>, sh: number): number {
  shiftAmount('asr', rd.size, sh);
  return encBitfield('sbfm', rd, rn, sh, rd.size - 1, 'asr');
}
/** ROR Rd, Rn, #sh = EXTR Rd, Rn, Rn, #sh. */
export function encRorImm<S extends RegSize>(rd: RZr<S>, rn: RZr<NoInfer<S>>, sh: number): number {
  shiftAmount('ror', rd.size, sh);
  return encExtr(rd, rn, rn, sh, 'ror');
}
/** UBFX Rd, Rn, #lsb, #width = UBFM Rd, Rn, #lsb, #(lsb+width-1). */
export function encUbfx<S extends RegSize>(rd: RZr<S>, rn: RZr<NoInfer<S>>, lsb: number, width: number): number {
  field('ubfx', rd.size, lsb, width);
  return encBitfield('ubfm', rd, rn, lsb, lsb + width - 1, 'ubfx');
}
/** SBFX Rd, Rn, #lsb, #width = SBFM Rd, Rn, #lsb, #(lsb+width-1). */
export function encSbfx<S extends RegSize>(rd: RZr<S>, rn: RZr<NoInfer<S>>, lsb: number, width: number): number {
  field('sbfx', rd.size, lsb, width);
  return encBitfield('sbfm', rd, rn, lsb, lsb + width - 1, 'sbfx');
}
/** UBFIZ Rd, Rn, #lsb, #width = UBFM Rd, Rn, #(-lsb mod size), #(width-1). */
export function encUbfiz<S extends RegSize>(rd: RZr<S>, rn: RZr<NoInfer<S>>, lsb: number, width: number): number {
  field('ubfiz', rd.size, lsb, width);
  return encBitfield('ubfm', rd, rn, (rd.size - lsb) % rd.size, width - 1, 'ubfiz');
}
/** SBFIZ Rd, Rn, #lsb, #width = SBFM Rd, Rn, #(-lsb mod size), #(width-1). */
export function encSbfiz<S extends RegSize>(rd: RZr<S>, rn: RZr<NoInfer<S>>, lsb: number, width: number): number {
  field('sbfiz', rd.size, lsb, width);
  return encBitfield('sbfm', rd, rn, (rd.size - lsb) % rd.size, width - 1, 'sbfiz');
}
/** BFI Rd, Rn, #lsb, #width = BFM Rd, Rn, #(-lsb mod size), #(width-1). */
export function encBfi<S extends RegSize>(rd: RZr<S>, rn: RZr<NoInfer<S>>, lsb: number, width: number): number {
  field('bfi', rd.size, lsb, width);
  return encBitfield('bfm', rd, rn, (rd.size - lsb) % rd.size, width - 1, 'bfi');
}
/** BFXIL Rd, Rn, #lsb, #width = BFM Rd, Rn, #lsb, #(lsb+width-1). */
export function encBfxil<S extends RegSize>(rd: RZr<S>, rn: RZr<NoInfer<S>>, lsb: number, width: number): number {
  field('bfxil', rd.size, lsb, width);
  return encBitfield('bfm', rd, rn, lsb, lsb + width - 1, 'bfxil');
}

function wSource(insn: string, rn: RZr): Reg<64, 'gp' | 'zr'> {
  rz(insn, 'rn', rn, 32);
  return rn.cls === 'zr' ? XZR : (XREGS[rn.num] as Reg<64, 'gp'>);
}
/** UXTB Wd, Wn = UBFM Wd, Wn, #0, #7. */
export const encUxtb = (rd: RZr<32>, rn: RZr<32>): number => encBitfield('ubfm', rd, rn, 0, 7, 'uxtb');
/** UXTH Wd, Wn = UBFM Wd, Wn, #0, #15. */
export const encUxth = (rd: RZr<32>, rn: RZr<32>): number => encBitfield('ubfm', rd, rn, 0, 15, 'uxth');
/** SXTB Rd, Wn = SBFM Rd, Rn, #0, #7 (Rd W or X; the source is written as W). */
export function encSxtb(rd: RZr, rn: RZr<32>): number {
  return rd.size === 64 ? encBitfield('sbfm', rd, wSource('sxtb', rn), 0, 7, 'sxtb') : encBitfield('sbfm', rd, rn, 0, 7, 'sxtb');
}
/** SXTH Rd, Wn = SBFM Rd, Rn, #0, #15. */
export function encSxth(rd: RZr, rn: RZr<32>): number {
  return rd.size === 64 ? encBitfield('sbfm', rd, wSource('sxth', rn), 0, 15, 'sxth') : encBitfield('sbfm', rd, rn, 0, 15, 'sxth');
}
/** SXTW Xd, Wn = SBFM Xd, Xn, #0, #31. */
export function encSxtw(rd: RZr<64>, rn: RZr<32>): number {
  rz('sxtw', 'rd', rd, 64);
  return encBitfield('sbfm', rd, wSource('sxtw', rn), 0, 31, 'sxtw');
}

/** EXTR Rd, Rn, Rm, #lsb: (Rn:Rm) >> lsb. */
export function encExtr<S extends RegSize>(rd: RZr<S>, rn: RZr<NoInfer<S>>, rm: RZr<NoInfer<S>>, lsb: number, name = 'extr'): number {
  const size = rd.size;
  const d = rz(name, 'rd', rd, size), n = rz(name, 'rn', rn, size), m = rz(name, 'rm', rm, size);
  const l = urange(name, 'lsb', lsb, 0, size - 1);
  const sfb = sf(rd);
  return ((sfb << 31) | EXTR_BASE | (sfb << 22) | (m << 16) | (l << 10) | (n << 5) | d) >>> 0;
}

// ------------------------------------------------------------------------------------------------
// Data processing (1, 2, 3 sources), conditional select

/** UDIV/SDIV/LSLV/LSRV/ASRV/RORV Rd, Rn, Rm. */
export function encDp2<S extends RegSize>(op: Dp2Op, rd: RZr<S>, rn: RZr<NoInfer<S>>, rm: RZr<NoInfer<S>>): number {
  const opcode = pick(op, 'op', DP2, op);
  const size = rd.size;
  const d = rz(op, 'rd', rd, size), n = rz(op, 'rn', rn, size), m = rz(op, 'rm', rm, size);
  return ((sf(rd) << 31) | DP2_BASE | (m << 16) | (opcode << 10) | (n << 5) | d) >>> 0;
}
export const encUdiv = <S extends RegSize>(rd: RZr<S>, rn: RZr<NoInfer<S>>, rm: RZr<NoInfer<S>>): number => encDp2('udiv', rd, rn, rm);
export const encSdiv = <S extends RegSize>(rd: RZr<S>, rn: RZr<NoInfer<S>>, rm: RZr<NoInfer<S>>): number => encDp2('sdiv', rd, rn, rm);
export const encLslv = <S extends RegSize>(rd: RZr<S>, rn: RZr<NoInfer<S>>, rm: RZr<NoInfer<S>>): number => encDp2('lslv', rd, rn, rm);
export const encLsrv = <S extends RegSize>(rd: RZr<S>, rn: RZr<NoInfer<S>>, rm: RZr<NoInfer<S>>): number => encDp2('lsrv', rd, rn, rm);
export const encAsrv = <S extends RegSize>(rd: RZr<S>, rn: RZr<NoInfer<S>>, rm: RZr<NoInfer<S>>): number => encDp2('asrv', rd, rn, rm);
export const encRorv = <S extends RegSize>(rd: RZr<S>, rn: RZr<NoInfer<S>>, rm: RZr<NoInfer<S>>): number => encDp2('rorv', rd, rn, rm);

/** RBIT/REV16/REV32/REV/CLZ/CLS Rd, Rn (REV32 is 64-bit only). */
export function encDp1<S extends RegSize>(op: Dp1Op, rd: RZr<S>, rn: RZr<NoInfer<S>>): number {
  const row = pick(op, 'op', DP1, op);
  const size = rd.size;
  const d = rz(op, 'rd', rd, size), n = rz(op, 'rn', rn, size);
  const opcode = size === 64 ? row.opcode64 : row.opcode32;
  if (opcode < 0) throw new RegisterClassError(op, 'rd', rd.name, 'X0-X30 or xzr');
  return ((sf(rd) << 31) | DP1_BASE | (opcode << 10) | (n << 5) | d) >>> 0;
}
export const encRev = <S extends RegSize>(rd: RZr<S>, rn: RZr<NoInfer<S>>): number => encDp1('rev', rd, rn);
export const encRev16 = <S extends RegSize>(rd: RZr<S>, rn: RZr<NoInfer<S>>): number => encDp1('rev16', rd, rn);
export const encRev32 = (rd: RZr<64>, rn: RZr<64>): number => encDp1('rev32', rd, rn);
export const encRbit = <S extends RegSize>(rd: RZr<S>, rn: RZr<NoInfer<S>>): number => encDp1('rbit', rd, rn);
export const encClz = <S extends RegSize>(rd: RZr<S>, rn: RZr<NoInfer<S>>): number => encDp1('clz', rd, rn);

/**
 * MADD/MSUB Rd, Rn, Rm, Ra (same width); SMULH/UMULH Xd, Xn, Xm (Ra = XZR); SMADDL/UMADDL/
 * SMSUBL/UMSUBL Xd, Wn, Wm, Xa.
 */
export function encDp3(op: Dp3Op, rd: RZr, rn: RZr, rm: RZr, ra: RZr): number {
  const row = pick(op, 'op', DP3, op);
  const wide = op !== 'madd' && op !== 'msub';
  const size = wide ? 64 : rd.size;
  const srcSize: RegSize = wide && op !== 'smulh' && op !== 'umulh' ? 32 : size;
  const d = rz(op, 'rd', rd, size), n = rz(op, 'rn', rn, srcSize), m = rz(op, 'rm', rm, srcSize), a = rz(op, 'ra', ra, size);
  if ((op === 'smulh' || op === 'umulh') && a !== 31) throw new RegisterClassError(op, 'ra', ra.name, 'xzr');
  return (((size === 64 ? 1 : 0) << 31) | DP3_BASE | (row.op31 << 21) | (m << 16) | (row.o0 << 15) | (a << 10) | (n << 5) | d) >>> 0;
}
export const encMadd = <S extends RegSize>(rd: RZr<S>, rn: RZr<NoInfer<S>>, rm: RZr<NoInfer<S>>, ra: RZr<NoInfer<S>>): number => encDp3('madd', rd, rn, rm, ra);
export const encMsub = <S extends RegSize>(rd: RZr<S>, rn: RZr<NoInfer<S>>, rm: RZr<NoInfer<S>>, ra: RZr<NoInfer<S>>): number => encDp3('msub', rd, rn, rm, ra);
/** MUL Rd, Rn, Rm = MADD Rd, Rn, Rm, ZR. */
export const encMul = <S extends RegSize>(rd: RZr<S>, rn: RZr<NoInfer<S>>, rm: RZr<NoInfer<S>>): number => encDp3('madd', rd, rn, rm, zrOf(rd));
/** MNEG Rd, Rn, Rm = MSUB Rd, Rn, Rm, ZR. */
export const encMneg = <S extends RegSize>(rd: RZr<S>, rn: RZr<NoInfer<S>>, rm: RZr<NoInfer<S>>): number => encDp3('msub', rd, rn, rm, zrOf(rd));
export const encUmulh = (rd: RZr<64>, rn: RZr<64>, rm: RZr<64>): number => encDp3('umulh', rd, rn, rm, XZR);
export const encSmulh = (rd: RZr<64>, rn: RZr<64>, rm: RZr<64>): number => encDp3('smulh', rd, rn, rm, XZR);
/** UMULL Xd, Wn, Wm = UMADDL Xd, Wn, Wm, XZR; SMULL likewise. */
export const encUmull = (rd: RZr<64>, rn: RZr<32>, rm: RZr<32>): number => encDp3('umaddl', rd, rn, rm, XZR);
export const encSmull = (rd: RZr<64>, rn: RZr<32>, rm: RZr<32>): number => encDp3('smaddl', rd, rn, rm, XZR);

/** CSEL/CSINC/CSINV/CSNEG Rd, Rn, Rm, cond. */
export function encCondSel<S extends RegSize>(op: CselOp, rd: RZr<S>, rn: RZr<NoInfer<S>>, rm: RZr<NoInfer<S>>, cond: Cond, name: string = op): number {
  const row = pick(name, 'op', CSEL, op);
  const size = rd.size;
  const d = rz(name, 'rd', rd, size), n = rz(name, 'rn', rn, size), m = rz(name, 'rm', rm, size);
  const c = pick(name, 'cond', COND, cond);
  return ((sf(rd) << 31) | (row.op << 30) | CSEL_BASE | (m << 16) | (c << 12) | (row.op2 << 10) | (n << 5) | d) >>> 0;
}
export const encCsel = <S extends RegSize>(rd: RZr<S>, rn: RZr<NoInfer<S>>, rm: RZr<NoInfer<S>>, cond: Cond): number => encCondSel('csel', rd, rn, rm, cond);
export const encCsinc = <S extends RegSize>(rd: RZr<S>, rn: RZr<NoInfer<S>>, rm: RZr<NoInfer<S>>, cond: Cond): number => encCondSel('csinc', rd, rn, rm, cond);
export const encCsinv = <S extends RegSize>(rd: RZr<S>, rn: RZr<NoInfer<S>>, rm: RZr<NoInfer<S>>, cond: Cond): number => encCondSel('csinv', rd, rn, rm, cond);
export const encCsneg = <S extends RegSize>(rd: RZr<S>, rn: RZr<NoInfer<S>>, rm: RZr<NoInfer<S>>, cond: Cond): number => encCondSel('csneg', rd, rn, rm, cond);

/** The inverse condition (eq <-> ne ...); al and nv have none (CSET/CINC reject them). */
export function invertCond(insn: string, cond: Cond): Cond {
  const c = pick(insn, 'cond', COND, cond);
  if (c >= 14) throw new ImmediateRangeError(insn, 'cond', cond, 'a condition other than al and nv');
  return INVERSE[c ^ 1] as Cond;
}
const INVERSE: readonly Cond[] = ['eq', 'ne', 'hs', 'lo', 'mi', 'pl', 'vs', 'vc', 'hi', 'ls', 'ge', 'lt', 'gt', 'le', 'al', 'nv'];

/** CSET Rd, cond = CSINC Rd, ZR, ZR, invert(cond). */
export const encCset = <S extends RegSize>(rd: RZr<S>, cond: Cond): number => encCondSel('csinc', rd, zrOf(rd), zrOf(rd), invertCond('cset', cond), 'cset');
/** CSETM Rd, cond = CSINV Rd, ZR, ZR, invert(cond). */
export const encCsetm = <S extends RegSize>(rd: RZr<S>, cond: Cond): number => encCondSel('csinv', rd, zrOf(rd), zrOf(rd), invertCond('csetm', cond), 'csetm');
/** CINC Rd, Rn, cond = CSINC Rd, Rn, Rn, invert(cond). */
export const encCinc = <S extends RegSize>(rd: RZr<S>, rn: RZr<NoInfer<S>>, cond: Cond): number => encCondSel('csinc', rd, rn, rn, invertCond('cinc', cond), 'cinc');
/** CNEG Rd, Rn, cond = CSNEG Rd, Rn, Rn, invert(cond). */
export const encCneg = <S extends RegSize>(rd: RZr<S>, rn: RZr<NoInfer<S>>, cond: Cond): number => encCondSel('csneg', rd, rn, rn, invertCond('cneg', cond), 'cneg');

