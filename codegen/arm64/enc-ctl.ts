// Pure A64 encoders for control flow, PC-relative addressing and system instructions.
//
// Branch and ADR encoders take the byte displacement from the instruction's own address (the
// value the field encodes, Arm ARM C6.2 "B": PC-relative offset = imm26 * 4); label-relative use
// goes through emit.ts, which patches these same fields. Ranges: B/BL +-128 MiB, B.cond/CBZ/CBNZ
// +-1 MiB, TBZ/TBNZ +-32 KiB, ADR +-1 MiB (byte granular), ADRP +-4 GiB (page granular).

import { ADR_BASE, ADRP_BASE, BARRIER, BRANCH, BTI, COND, SYSTEM, type Barrier, type BtiTarget, type Cond } from './tables.js';
import { pick, rgp, rz, simm, sscaled, uimm } from './check.js';
import { RegisterClassError } from './errors.js';
import { X30, type Reg, type RZr, type XGp } from './regs.js';

/** B label: imm26 word displacement. */
export function encB(offset: number): number {
  return (BRANCH.b | sscaled('b', 'offset', offset, 4, 26)) >>> 0;
}
/** BL label. */
export function encBl(offset: number): number {
  return (BRANCH.bl | sscaled('bl', 'offset', offset, 4, 26)) >>> 0;
}
/** B.cond label: imm19 word displacement. */
export function encBCond(cond: Cond, offset: number): number {
  const c = pick('b.cond', 'cond', COND, cond);
  return (BRANCH.bcond | (sscaled('b.' + cond, 'offset', offset, 4, 19) << 5) | c) >>> 0;
}
/** CBZ/CBNZ Rt, label (Rt W or X; the width selects the 32/64-bit compare). */
export function encCbz(rt: RZr, offset: number, nonzero = false): number {
  const insn = nonzero ? 'cbnz' : 'cbz';
  const t = rz(insn, 'rt', rt, rt.size);
  const imm = sscaled(insn, 'offset', offset, 4, 19);
  return (((rt.size === 64 ? 1 : 0) << 31) | (nonzero ? BRANCH.cbnz : BRANCH.cbz) | (imm << 5) | t) >>> 0;
}
export const encCbnz = (rt: RZr, offset: number): number => encCbz(rt, offset, true);
/** TBZ/TBNZ Rt, #bit, label: bit 0..31 for W, 0..63 for X (b5 is bit 31 of the word). */
export function encTbz(rt: RZr, bit: number, offset: number, nonzero = false): number {
  const insn = nonzero ? 'tbnz' : 'tbz';
  const t = rz(insn, 'rt', rt, rt.size);
  const b = uimm(insn, 'bit', bit, rt.size === 64 ? 6 : 5);
  const imm = sscaled(insn, 'offset', offset, 4, 14);
  return (((b >>> 5) << 31) | (nonzero ? BRANCH.tbnz : BRANCH.tbz) | ((b & 31) << 19) | (imm << 5) | t) >>> 0;
}
export const encTbnz = (rt: RZr, bit: number, offset: number): number => encTbz(rt, bit, offset, true);

function target(insn: string, rn: Reg): number {
  if (rn.size !== 64 || rn.cls === 'sp') throw new RegisterClassError(insn, 'rn', rn.name, 'X0-X30 or xzr');
  return rn.num;
}
/** BR Xn. */
export const encBr = (rn: RZr<64>): number => (BRANCH.br | (target('br', rn) << 5)) >>> 0;
/** BLR Xn. */
export const encBlr = (rn: RZr<64>): number => (BRANCH.blr | (target('blr', rn) << 5)) >>> 0;
/** RET {Xn} (default X30). */
export const encRet = (rn: RZr<64> = X30): number => (BRANCH.ret | (target('ret', rn) << 5)) >>> 0;

/** ADR Xd, label: byte displacement within +-1 MiB (immlo = low 2 bits, immhi = the rest). */
export function encAdr(rd: XGp, offset: number): number {
  const d = rgp('adr', 'rd', rd, 64);
  const imm = simm('adr', 'offset', offset, 21);
  return (ADR_BASE | ((imm & 3) << 29) | ((imm >>> 2) << 5) | d) >>> 0;
}
/**
 * ADRP Xd, label: `pageDelta` = (target page) - (this instruction's page), in 4 KiB pages, within
 * [-2^20, 2^20) (+-4 GiB).
 */
export function encAdrp(rd: XGp, pageDelta: number): number {
  const d = rgp('adrp', 'rd', rd, 64);
  const imm = simm('adrp', 'pageDelta', pageDelta, 21);
  return (ADRP_BASE | ((imm & 3) << 29) | ((imm >>> 2) << 5) | d) >>> 0;
}

export const encNop = (): number => SYSTEM.nop;
/** HINT #imm7 (NOP is HINT #0, BTI is HINT #32..#38). */
export const encHint = (imm: number): number => (SYSTEM.hint | (uimm('hint', 'imm', imm, 7) << 5)) >>> 0;
/** BTI {c|j|jc}: HINT #(0b0100_000 | targets << 1). */
export function encBti(targets: BtiTarget = ''): number {
  const t = pick('bti', 'targets', BTI, targets);
  return (SYSTEM.hint | ((32 | (t << 1)) << 5)) >>> 0;
}
/** BRK #imm16. */
export const encBrk = (imm: number): number => (SYSTEM.brk | (uimm('brk', 'imm', imm, 16) << 5)) >>> 0;
/** DMB <option>. */
export const encDmb = (opt: Barrier): number => ((SYSTEM.dmb & ~0xf00) | (pick('dmb', 'option', BARRIER, opt) << 8)) >>> 0;
/** DSB <option>. */
export const encDsb = (opt: Barrier): number => ((SYSTEM.dsb & ~0xf00) | (pick('dsb', 'option', BARRIER, opt) << 8)) >>> 0;
/** ISB (SY). */
export const encIsb = (): number => (SYSTEM.isb | (0xf << 8)) >>> 0;

function sysReg(insn: string, rt: Reg): number {
  if (rt.size !== 64 || rt.cls === 'sp') throw new RegisterClassError(insn, 'rt', rt.name, 'X0-X30 or xzr');
  return rt.num;
}
/** DC CVAU, Xt: clean data cache line by VA to the point of unification. */
export const encDcCvau = (rt: RZr<64>): number => (SYSTEM.dcCvau | sysReg('dc cvau', rt)) >>> 0;
/** DC CVAC, Xt. */
export const encDcCvac = (rt: RZr<64>): number => (SYSTEM.dcCvac | sysReg('dc cvac', rt)) >>> 0;
/** DC CIVAC, Xt. */
export const encDcCivac = (rt: RZr<64>): number => (SYSTEM.dcCivac | sysReg('dc civac', rt)) >>> 0;
/** IC IVAU, Xt: invalidate instruction cache line by VA to the point of unification. */
export const encIcIvau = (rt: RZr<64>): number => (SYSTEM.icIvau | sysReg('ic ivau', rt)) >>> 0;
/** IC IALLU. */
export const encIcIallu = (): number => SYSTEM.icIallu;
