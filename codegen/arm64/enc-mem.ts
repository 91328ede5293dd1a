// Pure A64 encoders for loads and stores: single registers (unsigned scaled offset, unscaled
// LDUR/STUR, pre/post index, register offset, PC-relative literal), pairs, exclusives, LSE atomics
// and PRFM. Offsets are byte offsets as written in assembly; the encoder scales and checks them.
//
// Invariants: the base is X0..X30 or SP (never XZR); Rt/Rt2/Rs are X/W or ZR (never SP); forms
// the Arm ARM calls CONSTRAINED UNPREDICTABLE are rejected as llvm-mc rejects them (writeback base
// = Rt/Rt2, LDP Rt = Rt2, store-exclusive status = Rt or base); the
// access size comes from the LDST table row, or from Rt's width for LDR/STR. Misaligned scaled
// offsets are a MisalignedOffsetError, never silently routed to another form (Arm ARM C6.2:
// "LDR (immediate)" accepts only multiples of the access size; LDUR is a separate mnemonic).

import {
  ATOMIC, ATOMIC_BASE, CAS_BASE, EXCLUSIVE, EXCLUSIVE_BASE, EXTEND, LDR_LITERAL, LDST, LDST_POST_BASE,
  LDST_PRE_BASE, LDST_REG_BASE, LDST_UIMM_BASE, LDST_UNSCALED_BASE, LDSTP_BASE, LDSTP_MODE, ORDER, PRFOP,
  type AtomicOp, type ExclusiveOp, type Extend, type LdStOp, type Order, type PairMode,
} from './tables.js';
import { base, pick, rz, simm, sscaled, uscaled } from './check.js';
import { ImmediateRangeError, RegisterClassError } from './errors.js';
import type { Reg, RZr, XSp } from './regs.js';

/** size (log2 bytes) << 2 | opc for an LDST row and Rt. */
function access(op: LdStOp, rt: Reg): number {
  const row = pick(op, 'op', LDST, op);
  if (rt.cls === 'sp') throw new RegisterClassError(op, 'rt', rt.name, 'a W/X register or zr');
  if (row.rt === 'w' && rt.size !== 32) throw new RegisterClassError(op, 'rt', rt.name, 'W0-W30 or wzr');
  if (row.rt === 'x' && rt.size !== 64) throw new RegisterClassError(op, 'rt', rt.name, 'X0-X30 or xzr');
  if (row.size < 0) return ((rt.size === 64 ? 3 : 2) << 2) | row.opc;
  if (row.opc === 0b10 && rt.size === 32) return (row.size << 2) | 0b11;
  return (row.size << 2) | row.opc;
}

/** LDR/STR/LDRB/.../LDRSW Rt, [Xn|SP, #offset]: offset a multiple of the access size, 0..4095*size. */
export function encLdSt(op: LdStOp, rt: RZr, rn: XSp, offset = 0): number {
  const a = access(op, rt);
  const n = base(op, rn);
  const imm = uscaled(op, 'offset', offset, 1 << (a >>> 2), 12);
  return (((a >>> 2) << 30) | LDST_UIMM_BASE | ((a & 3) << 22) | (imm << 10) | (n << 5) | rt.num) >>> 0;
}

/** Unscaled LDUR/STUR/LDURB/... Rt, [Xn|SP, #simm9]. */
export function encLdStUnscaled(op: LdStOp, rt: RZr, rn: XSp, offset = 0): number {
  const a = access(op, rt);
  const n = base(op, rn);
  const imm = simm(op, 'offset', offset, 9);
  return (((a >>> 2) << 30) | LDST_UNSCALED_BASE | ((a & 3) << 22) | (imm << 12) | (n << 5) | rt.num) >>> 0;
}

/** Pre-index (`[Xn, #simm9]!`) or post-index (`[Xn], #simm9`) writeback forms. */
export function encLdStIndexed(op: LdStOp, rt: RZr, rn: XSp, offset: number, mode: 'pre' | 'post'): number {
  const a = access(op, rt);
  const n = base(op, rn);
  const imm = simm(op, 'offset', offset, 9);
  if (mode !== 'pre' && mode !== 'post') throw new ImmediateRangeError(op, 'mode', String(mode), 'pre or post');
  if ((rt as Reg).cls === 'gp' && rt.num === n) {
    throw new RegisterClassError(op, 'rt', rt.name, 'a register other than the writeback base');
  }
  return (((a >>> 2) << 30) | (mode === 'pre' ? LDST_PRE_BASE : LDST_POST_BASE) | ((a & 3) << 22) | (imm << 12) | (n << 5) | rt.num) >>> 0;
}

/**
 * Register offset: Rt, [Xn|SP, Rm{, extend {#amount}}]. `extend` is lsl/uxtx/sxtx (Rm = X) or
 * uxtw/sxtw (Rm = W); `shifted` scales Rm by the access size (amount = log2 size, or 0 for bytes
 * when written explicitly).
 */
export function encLdStReg(op: LdStOp, rt: RZr, rn: XSp, rm: RZr, extend: 'lsl' | Extend = 'lsl', shifted = false): number {
  const a = access(op, rt);
  const n = base(op, rn);
  const opt = extend === 'lsl' ? 0b011 : pick(op, 'extend', EXTEND, extend);
  if ((opt & 0b010) === 0) throw new ImmediateRangeError(op, 'extend', extend, 'lsl, uxtw, sxtw or sxtx');
  const m = rz(op, 'rm', rm, (opt & 1) === 1 ? 64 : 32);
  return (((a >>> 2) << 30) | LDST_REG_BASE | ((a & 3) << 22) | (m << 16) | (opt << 13) | ((shifted ? 1 : 0) << 12) | (n << 5) | rt.num) >>> 0;
}

/** LDR Wt/Xt (literal), or LDRSW Xt (literal): PC-relative, offset a multiple of 4 within +-1 MiB. */
export function encLdrLiteral(rt: RZr, offset: number, signed = false): number {
  const insn = signed ? 'ldrsw' : 'ldr';
  if ((rt as Reg).cls === 'sp') throw new RegisterClassError(insn, 'rt', rt.name, 'a W/X register or zr');
  if (signed && rt.size !== 64) throw new RegisterClassError(insn, 'rt', rt.name, 'X0-X30 or xzr');
  const imm = sscaled(insn, 'offset', offset, 4, 19);
  const word = signed ? LDR_LITERAL.ldrsw : rt.size === 64 ? LDR_LITERAL.x : LDR_LITERAL.w;
  return (word | (imm << 5) | rt.num) >>> 0;
}

/** PRFM prfop, [Xn|SP, #offset] (offset a multiple of 8, 0..32760). */
export function encPrfm(prfop: string, rn: XSp, offset = 0): number {
  const op = pick('prfm', 'prfop', PRFOP, prfop);
  const n = base('prfm', rn);
  const imm = uscaled('prfm', 'offset', offset, 8, 12);
  return ((3 << 30) | LDST_UIMM_BASE | (0b10 << 22) | (imm << 10) | (n << 5) | op) >>> 0;
}

/** PRFM prfop, [Xn|SP, Rm{, extend {#3}}]. */
export function encPrfmReg(prfop: string, rn: XSp, rm: RZr, extend: 'lsl' | Extend = 'lsl', shifted = false): number {
  const op = pick('prfm', 'prfop', PRFOP, prfop);
  const n = base('prfm', rn);
  const opt = extend === 'lsl' ? 0b011 : pick('prfm', 'extend', EXTEND, extend);
  if ((opt & 0b010) === 0) throw new ImmediateRangeError('prfm', 'extend', extend, 'lsl, uxtw, sxtw or sxtx');
  const m = rz('prfm', 'rm', rm, (opt & 1) === 1 ? 64 : 32);
  return ((3 << 30) | LDST_REG_BASE | (0b10 << 22) | (m << 16) | (opt << 13) | ((shifted ? 1 : 0) << 12) | (n << 5) | op) >>> 0;
}

/** LDP/STP Rt, Rt2, [Xn|SP, #offset] with signed-offset, pre- or post-index mode; offset imm7 * size. */
export function encLdStPair(load: boolean, rt: RZr, rt2: RZr, rn: XSp, offset = 0, mode: PairMode = 'offset'): number {
  const insn = load ? 'ldp' : 'stp';
  const size = rt.size;
  const t = rz(insn, 'rt', rt, size), t2 = rz(insn, 'rt2', rt2, size);
  const n = base(insn, rn);
  const m = pick(insn, 'mode', LDSTP_MODE, mode);
  const imm = sscaled(insn, 'offset', offset, size === 64 ? 8 : 4, 7);
  if (load && t === t2 && t !== 31) throw new RegisterClassError(insn, 'rt2', rt2.name, 'a register different from rt');
  if (mode !== 'offset' && n !== 31 && (t === n || t2 === n)) {
    throw new RegisterClassError(insn, t === n ? 'rt' : 'rt2', t === n ? rt.name : rt2.name, 'a register other than the writeback base');
  }
  const opc = size === 64 ? 0b10 : 0b00;
  return ((opc << 30) | LDSTP_BASE | (m << 23) | ((load ? 1 : 0) << 22) | (imm << 15) | (t2 << 10) | (n << 5) | t) >>> 0;
}

export const encLdp = (rt: RZr, rt2: RZr, rn: XSp, offset = 0, mode: PairMode = 'offset'): number => encLdStPair(true, rt, rt2, rn, offset, mode);
export const encStp = (rt: RZr, rt2: RZr, rn: XSp, offset = 0, mode: PairMode = 'offset'): number => encLdStPair(false, rt, rt2, rn, offset, mode);

/**
 * LDXR/LDAXR/LDAR Rt, [Xn|SP]; STXR/STLXR Ws, Rt, [Xn|SP]; STLR Rt, [Xn|SP]. Size from Rt.
 * For the store-exclusives, `ws` receives the status and must differ from Rt and the base.
 */
export function encExclusive(op: ExclusiveOp, rt: RZr, rn: XSp, ws?: RZr<32>): number {
  const row = pick(op, 'op', EXCLUSIVE, op);
  const t = rz(op, 'rt', rt, rt.size);
  const n = base(op, rn);
  let s = 31;
  if (op === 'stxr' || op === 'stlxr') {
    if (ws === undefined) throw new RegisterClassError(op, 'ws', 'none', 'W0-W30');
    s = rz(op, 'ws', ws, 32);
    if (s === t || (s === n && n !== 31)) throw new RegisterClassError(op, 'ws', ws.name, 'a status register different from rt and the base');
  }
  const size = rt.size === 64 ? 3 : 2;
  return ((size << 30) | EXCLUSIVE_BASE | (row.o2 << 23) | (row.l << 22) | (row.o1 << 21) | (s << 16) | (row.o0 << 15) | (n << 5) | t) >>> 0;
}
export const encLdxr = (rt: RZr, rn: XSp): number => encExclusive('ldxr', rt, rn);
export const encLdaxr = (rt: RZr, rn: XSp): number => encExclusive('ldaxr', rt, rn);
export const encStxr = (ws: RZr<32>, rt: RZr, rn: XSp): number => encExclusive('stxr', rt, rn, ws);
export const encStlxr = (ws: RZr<32>, rt: RZr, rn: XSp): number => encExclusive('stlxr', rt, rn, ws);
export const encLdar = (rt: RZr, rn: XSp): number => encExclusive('ldar', rt, rn);
export const encStlr = (rt: RZr, rn: XSp): number => encExclusive('stlr', rt, rn);

/**
 * LSE LDADD/LDCLR/LDEOR/LDSET/SWP{A,L,AL} Rs, Rt, [Xn|SP]: memory op= Rs, old value into Rt.
 * Rs and Rt have the same width, which selects the 32- or 64-bit form.
 */
export function encAtomic(op: AtomicOp, order: Order, rs: RZr, rt: RZr, rn: XSp): number {
  const row = pick(op, 'op', ATOMIC, op);
  const ord = pick(op, 'order', ORDER, order);
  const name = op + order;
  const s = rz(name, 'rs', rs, rs.size), t = rz(name, 'rt', rt, rs.size);
  const n = base(name, rn);
  const size = rs.size === 64 ? 3 : 2;
  return ((size << 30) | ATOMIC_BASE | (ord.a << 23) | (ord.r << 22) | (s << 16) | (row.o3 << 15) | (row.opc << 12) | (n << 5) | t) >>> 0;
}

/** LSE CAS{A,L,AL} Rs, Rt, [Xn|SP]: compare Rs with memory, store Rt if equal; old value into Rs. */
export function encCas(order: Order, rs: RZr, rt: RZr, rn: XSp): number {
  const ord = pick('cas', 'order', ORDER, order);
  const name = 'cas' + order;
  const s = rz(name, 'rs', rs, rs.size), t = rz(name, 'rt', rt, rs.size);
  const n = base(name, rn);
  const size = rs.size === 64 ? 3 : 2;
  return ((size << 30) | CAS_BASE | (ord.a << 22) | (s << 16) | (ord.r << 15) | (n << 5) | t) >>> 0;
}

