// x86_64 shifts and rotates in translated code: shl/shr/sar/rol/ror/rcl/rcr by an immediate or by
// cl, and shld/shrd by an immediate or by cl, mirroring emulator/x86_64/alu.ts shift(),
// rotateThroughCarry() and shiftDouble() bit for bit (also their values for the SDM's undefined
// cases: 8/16-bit counts beyond the width, shld/shrd of 16 bits by more than 16, which the
// interpreter computes with JavaScript's 32-bit shifts, mirrored here with i32 shifts).
//
// Invariants: a count of zero (after masking to 5/6 bits) writes the operand back unchanged (a
// store for memory, the zero-extension for a 32-bit register) and leaves the flags alone; any
// other count sets the flags eagerly (F_RAW: the interpreter's setRaw). A count from cl is known
// only at run time, so after such a shift the flag producer is unknown (`known = null`).

import binaryen from 'binaryen';
import type { Expr } from './types.js';
import { type AddrRef, type X86Tx } from './x86_64-ctx.js';
import { c64, CF, eflagsNow, F_RAW, OF, rawFlags, setRaw, sext, signBit, sizeMask } from './x86_64-flags.js';

const I64 = binaryen.i64;
const I32 = binaryen.i32;
const RCX = 1;
const SHL = 4;
const SHR = 5;
const SAR = 7;

/** Locals and constants for one lowering, statements collected in `out`. */
class Seq {
  readonly out: Expr[] = [];
  constructor(readonly t: X86Tx) {}
  k(v: number): Expr {
    return c64(this.t.m, v, 0);
  }
  l64(v: Expr): () => Expr {
    const l = this.t.e.local(I64);
    this.out.push(this.t.m.local.set(l, v));
    return () => this.t.m.local.get(l, I64);
  }
  l32(v: Expr): () => Expr {
    const l = this.t.e.local(I32);
    this.out.push(this.t.m.local.set(l, v));
    return () => this.t.m.local.get(l, I32);
  }
  /** Bit b (i64 count) of x as i32 0/1. */
  bitAt(x: Expr, b: Expr): Expr {
    const m = this.t.m;
    return m.i32.wrap(m.i64.and(m.i64.shr_u(x, b), this.k(1)));
  }
  /** Sign bit of a size-byte value as i32 0/1. */
  sign(x: Expr, size: number): Expr {
    const m = this.t.m;
    return m.i64.ne(m.i64.and(x, signBit(m, size)), this.k(0));
  }
}

interface Shifted {
  res: () => Expr;
  /** EFLAGS after the instruction (i32), for F_RAW. */
  flags: () => Expr;
}

/**
 * alu.ts shift() for kind (0 rol, 1 ror, 2 rcl, 3 rcr, 4 shl, 5 shr, 7 sar) of the zero-extended
 * size-byte v by the i64 count n (non-zero, masked to 5/6 bits); statements go to q.out.
 */
function shiftCore(q: Seq, kind: number, size: number, v: () => Expr, n: () => Expr): Shifted {
  const m = q.t.m;
  const w = size * 8;
  const mask = (): Expr => sizeMask(m, size);
  const old = kind <= 3 ? q.l32(eflagsNow(q.t.e)) : null;
  let res: () => Expr;
  let cf: () => Expr;
  let of: Expr;
  if (kind === SHL) {
    if (size === 8) {
      res = q.l64(m.i64.shl(v(), n()));
      cf = q.l32(q.bitAt(v(), m.i64.sub(q.k(64), n())));
    } else {
      const tt = q.l64(m.i64.shl(v(), n()));
      res = q.l64(m.i64.and(tt(), mask()));
      cf = q.l32(q.bitAt(tt(), q.k(w)));
    }
    of = m.i32.xor(q.sign(res(), size), cf());
  } else if (kind === SHR) {
    cf = q.l32(q.bitAt(v(), m.i64.sub(n(), q.k(1))));
    res = q.l64(m.i64.shr_u(v(), n()));
    of = q.sign(v(), size);
  } else if (kind === SAR) {
    const sv = q.l64(sext(m, v(), size));
    cf = q.l32(q.bitAt(sv(), m.i64.sub(n(), q.k(1))));
    res = q.l64(m.i64.and(m.i64.shr_s(sv(), n()), mask()));
    of = m.i32.const(0);
  } else if (kind <= 1) {
    if (size === 8) res = q.l64(kind === 0 ? m.i64.rotl(v(), n()) : m.i64.rotr(v(), n()));
    else if (size === 4) {
      const r32 = kind === 0 ? m.i32.rotl(m.i32.wrap(v()), m.i32.wrap(n())) : m.i32.rotr(m.i32.wrap(v()), m.i32.wrap(n()));
      res = q.l64(m.i64.extend_u(r32));
    } else {
      const c = q.l64(m.i64.and(n(), q.k(w - 1)));
      const back = (): Expr => m.i64.sub(q.k(w), c());
      const x = kind === 0 ? m.i64.or(m.i64.shl(v(), c()), m.i64.shr_u(v(), back())) : m.i64.or(m.i64.shr_u(v(), c()), m.i64.shl(v(), back()));
      res = q.l64(m.i64.and(x, mask()));
    }
    if (kind === 0) {
      cf = q.l32(m.i32.wrap(m.i64.and(res(), q.k(1))));
      of = m.i32.xor(q.sign(res(), size), cf());
    } else {
      cf = q.l32(q.sign(res(), size));
      of = m.i32.xor(cf(), q.bitAt(res(), q.k(w - 2)));
    }
  } else {
    // rcl / rcr: a (w+1)-bit rotation of CF:value; 8/16-bit counts are taken modulo 9 / 17.
    const ci = q.l64(m.i64.extend_u(m.i32.and(old!(), m.i32.const(CF))));
    const left = kind === 2;
    if (size === 8) {
      const wrapIn = (x: Expr): Expr => m.select(m.i64.gt_u(n(), q.k(1)), x, q.k(0));
      if (left) {
        res = q.l64(m.i64.or(m.i64.or(m.i64.shl(v(), n()), m.i64.shl(ci(), m.i64.sub(n(), q.k(1)))), wrapIn(m.i64.shr_u(v(), m.i64.sub(q.k(65), n())))));
        cf = q.l32(q.bitAt(v(), m.i64.sub(q.k(64), n())));
      } else {
        res = q.l64(m.i64.or(m.i64.or(m.i64.shr_u(v(), n()), m.i64.shl(ci(), m.i64.sub(q.k(64), n()))), wrapIn(m.i64.shl(v(), m.i64.sub(q.k(65), n())))));
        cf = q.l32(q.bitAt(v(), m.i64.sub(n(), q.k(1))));
      }
    } else {
      const W = w + 1;
      const maskW = c64(m, size === 4 ? -1 : (1 << W) - 1, size === 4 ? 1 : 0);
      const c = size <= 2 ? q.l64(m.i64.rem_u(n(), q.k(W))) : n;
      const x = q.l64(m.i64.or(m.i64.shl(ci(), q.k(w)), v()));
      const back = (): Expr => m.i64.sub(q.k(W), c());
      const rot = left ? m.i64.or(m.i64.shl(x(), c()), m.i64.shr_u(x(), back())) : m.i64.or(m.i64.shr_u(x(), c()), m.i64.shl(x(), back()));
      const x2 = q.l64(m.i64.and(rot, maskW));
      res = q.l64(m.i64.and(x2(), mask()));
      cf = q.l32(q.bitAt(x2(), q.k(w)));
    }
    of = left ? m.i32.xor(q.sign(res(), size), cf()) : m.i32.xor(q.sign(res(), size), q.bitAt(res(), q.k(w - 2)));
  }
  const flags =
    kind <= 3
      ? q.l32(m.i32.or(m.i32.and(old!(), m.i32.const(~(CF | OF))), m.i32.or(cf(), m.select(of, m.i32.const(OF), m.i32.const(0)))))
      : q.l32(rawFlags(q.t.e, size, res, cf(), of));
  return { res, flags };
}

/** alu.ts shiftDouble(): shld (right false) / shrd of d by n filling from s (n non-zero). */
function shiftDoubleCore(q: Seq, right: boolean, size: number, d: () => Expr, s: () => Expr, n: () => Expr): Shifted {
  const m = q.t.m;
  let res: () => Expr;
  let cf: () => Expr;
  if (size === 8) {
    const back = (): Expr => m.i64.sub(q.k(64), n());
    if (!right) {
      cf = q.l32(q.bitAt(d(), back()));
      res = q.l64(m.i64.or(m.i64.shl(d(), n()), m.i64.shr_u(s(), back())));
    } else {
      cf = q.l32(q.bitAt(d(), m.i64.sub(n(), q.k(1))));
      res = q.l64(m.i64.or(m.i64.shr_u(d(), n()), m.i64.shl(s(), back())));
    }
  } else {
    const w = size * 8;
    const d32 = (): Expr => m.i32.wrap(d());
    const s32 = (): Expr => m.i32.wrap(s());
    const n32 = (): Expr => m.i32.wrap(n());
    const back = (): Expr => m.i32.sub(m.i32.const(w), n32());
    let r32: Expr;
    if (!right) {
      cf = q.l32(m.i32.and(m.i32.shr_u(d32(), back()), m.i32.const(1)));
      r32 = m.i32.or(m.i32.shl(d32(), n32()), m.i32.shr_u(s32(), back()));
    } else {
      cf = q.l32(m.i32.and(m.i32.shr_u(d32(), m.i32.sub(n32(), m.i32.const(1))), m.i32.const(1)));
      r32 = m.i32.or(m.i32.shr_u(d32(), n32()), m.i32.shl(s32(), back()));
    }
    res = q.l64(m.i64.and(m.i64.extend_u(r32), sizeMask(m, size)));
  }
  const of = m.i32.xor(q.sign(res(), size), q.sign(d(), size));
  const flags = q.l32(rawFlags(q.t.e, size, res, cf(), of));
  return { res, flags };
}

/** The shift / rotate family (SHIFT_I, SHIFT_CL, SHXD_I, SHXD_CL) of the current record. */
export function lowerShift(t: X86Tx, byCl: boolean, double: boolean, size: number, aux: number): void {
  const m = t.m;
  const addr: AddrRef = { get: () => c64(m, 0, 0) };
  const v = t.tmp(t.readRm(size, addr));
  const s = double ? t.tmp(t.getReg(t.r[t.i + 2]!, size)) : null;
  const cmask = size === 8 ? 63 : 31;
  if (!byCl) {
    const n = t.r[t.i + 6]! & cmask;
    if (n === 0) {
      t.emit(t.writeRm(size, addr, v()));
      return;
    }
    if (!double && aux >= SHL) {
      shiftImm(t, aux, size, n, v, addr);
      return;
    }
    const q = new Seq(t);
    const k = (): Expr => c64(m, n, 0);
    const sh = double ? shiftDoubleCore(q, aux === 1, size, v, s!, k) : shiftCore(q, aux, size, v, k);
    t.emit(...q.out);
    t.emit(t.writeRm(size, addr, sh.res()));
    t.emit(...setRaw(t.e, sh.flags()));
    t.known = { kind: F_RAW, size };
    return;
  }
  const n = t.tmp(m.i64.and(t.e.get(RCX), c64(m, cmask, 0)));
  const nonZero = (): Expr => m.i64.ne(n(), c64(m, 0, 0));
  const q = new Seq(t);
  const sh = double ? shiftDoubleCore(q, aux === 1, size, v, s!, n) : shiftCore(q, aux, size, v, n);
  t.emit(m.if(nonZero(), m.block(null, q.out)));
  const res = t.tmp(m.select(nonZero(), sh.res(), v()));
  t.emit(t.writeRm(size, addr, res()));
  t.emit(m.if(nonZero(), m.block(null, setRaw(t.e, sh.flags()))));
  t.known = null;
}

/**
 * shl (4) / shr (5) / sar (7) by a constant count n (1..63 / 1..31) of the value v already read
 * from the r/m operand, constant-folded (flags F_RAW like alu.ts shift).
 */
function shiftImm(t: X86Tx, kind: number, size: number, n: number, v: () => Expr, addr: AddrRef): void {
  const m = t.m;
  const e = t.e;
  const w = size * 8;
  let res: Expr;
  let cf: Expr;
  let of: Expr;
  const bit = (x: Expr, k: number): Expr => m.i32.wrap(m.i64.and(m.i64.shr_u(x, c64(m, k, 0)), c64(m, 1, 0)));
  if (kind === SHL) {
    res = m.i64.and(m.i64.shl(v(), c64(m, n, 0)), sizeMask(m, size));
    cf = n <= w ? bit(v(), w - n) : m.i32.const(0);
  } else if (kind === SHR) {
    res = m.i64.shr_u(v(), c64(m, n, 0));
    cf = n <= w ? bit(v(), n - 1) : m.i32.const(0);
  } else {
    const sv = sext(m, v(), size);
    res = m.i64.and(m.i64.shr_s(sv, c64(m, Math.min(n, 63), 0)), sizeMask(m, size));
    cf = bit(sext(m, v(), size), Math.min(n - 1, size === 8 ? 63 : 31));
  }
  const rr = t.tmp(res);
  const cfv = t.tmp32(cf);
  const signOf = (x: Expr): Expr => m.i64.ne(m.i64.and(x, signBit(m, size)), c64(m, 0, 0));
  if (kind === SHL) of = m.i32.xor(signOf(rr()), cfv());
  else if (kind === SHR) of = size === 8 ? m.i64.lt_s(v(), c64(m, 0, 0)) : signOf(v());
  else of = m.i32.const(0);
  t.emit(t.writeRm(size, addr, rr()));
  t.emit(...setRaw(e, rawFlags(e, size, rr, cfv(), of)));
  t.known = { kind: F_RAW, size };
}
