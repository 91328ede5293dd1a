// arm64 data-processing records (emulator/arm64/decode.ts) lowered to WebAssembly expressions.
// 64-bit operations are native i64, 32-bit ones i32 with the result zero-extended on write, as
// the W-register rule says (Arm ARM C1.2.5). Semantics mirror emulator/arm64/exec.ts op by op:
// AddWithCarry, ShiftReg, ExtendReg, DecodeBitMasks-based bitfield moves, UDIV/SDIV rounding
// toward zero with a zero divisor giving 0 and INT_MIN / -1 giving INT_MIN (no wasm trap).
//
// Invariants: `lowerAlu` returns the statements for one record, or null when the op is not a
// data-processing op handled here (the caller decides between memory, branch and unsupported).
// Reads of the zero register (index R_ZR) are constants; writes to R_SINK are dropped by the
// context; a register read in an instruction sees the value before that instruction's writes.

import binaryen from 'binaryen';
import { R_A, R_B, R_C, R_D, R_FL, R_REGS, FL_S, FL_SF, FL_SUB } from '../arm64/decode.js';
import { K_ADD, K_LOGIC, K_SUB, type LazyFlags } from './arm64-flags.js';
import { type Expr, i64const, i64pair } from './types.js';

/** What the lowering needs from the block being emitted: register access and scratch locals. */
export interface A64Ctx {
  readonly m: binaryen.Module;
  readonly flags: LazyFlags;
  /** X register (or SP at index 31, 0 for R_ZR) as i64. */
  x(r: number): Expr;
  /** Statement writing an i64 to register r (nop for R_SINK). */
  setX(r: number, e: Expr): Expr;
  /** Fresh scratch local of the type. */
  tmp(type: binaryen.Type): number;
}

const I64 = binaryen.i64;
const I32 = binaryen.i32;

/** Statements leaving their result in i64 local t. */
interface Seq {
  s: Expr[];
  t: number;
}

function k64(lo: number, hi: number): bigint {
  return BigInt.asIntN(64, (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0));
}

function w(c: A64Ctx, r: number): Expr {
  return c.m.i32.wrap(c.x(r));
}

function setW(c: A64Ctx, r: number, e: Expr): Expr {
  return c.setX(r, c.m.i64.extend_u(e));
}

/** ShiftReg on an i64 (type 0 LSL, 1 LSR, 2 ASR, 3 ROR), constant amount. */
function shift64(m: binaryen.Module, v: Expr, type: number, amt: number): Expr {
  if (amt === 0) return v;
  const k = m.i64.const(BigInt(amt));
  switch (type) {
    case 0: return m.i64.shl(v, k);
    case 1: return m.i64.shr_u(v, k);
    case 2: return m.i64.shr_s(v, k);
    default: return m.i64.rotr(v, k);
  }
}

function shift32(m: binaryen.Module, v: Expr, type: number, amt: number): Expr {
  if (amt === 0) return v;
  const k = m.i32.const(amt);
  switch (type) {
    case 0: return m.i32.shl(v, k);
    case 1: return m.i32.shr_u(v, k);
    case 2: return m.i32.shr_s(v, k);
    default: return m.i32.rotr(v, k);
  }
}

/** ExtendReg: option 0-3 UXTB/H/W/X, 4-7 SXTB/H/W/X, then << sh. */
export function extendReg(m: binaryen.Module, v: Expr, option: number, sh: number): Expr {
  let e: Expr;
  switch (option) {
    case 0: e = m.i64.and(v, m.i64.const(0xffn)); break;
    case 1: e = m.i64.and(v, m.i64.const(0xffffn)); break;
    case 2: e = m.i64.and(v, m.i64.const(0xffffffffn)); break;
    case 4: e = m.i64.extend8_s(v); break;
    case 5: e = m.i64.extend16_s(v); break;
    case 6: e = m.i64.extend32_s(v); break;
    default: e = v; break;
  }
  return sh === 0 ? e : m.i64.shl(e, m.i64.const(BigInt(sh)));
}

/** rd = rn +/- b with optional flags (AddWithCarry with carry-in 0 / 1). b is i64 or i32 by sf. */
function addSub(c: A64Ctx, rd: number, rn: number, b: Expr, fl: number): Expr[] {
  const m = c.m;
  const sf = (fl & FL_SF) !== 0;
  const sub = (fl & FL_SUB) !== 0;
  if ((fl & FL_S) === 0) {
    if (sf) return [c.setX(rd, sub ? m.i64.sub(c.x(rn), b) : m.i64.add(c.x(rn), b))];
    return [setW(c, rd, sub ? m.i32.sub(w(c, rn), b) : m.i32.add(w(c, rn), b))];
  }
  const out = c.flags.record(sub ? K_SUB : K_ADD, sf, sf ? c.x(rn) : w(c, rn), b, null);
  const r = c.flags.res();
  out.push(sf ? c.setX(rd, r) : setW(c, rd, r));
  return out;
}

/** AddWithCarry with the current C flag (adc, adcs, sbc, sbcs). */
function adc(c: A64Ctx, rd: number, rn: number, rm: number, fl: number): Expr[] {
  const m = c.m;
  const sf = (fl & FL_SF) !== 0;
  const sub = (fl & FL_SUB) !== 0;
  const cin = c.tmp(I64), a = c.tmp(I64), b = c.tmp(I64), r = c.tmp(I64);
  const g = (i: number): Expr => m.local.get(i, I64);
  const mask = (e: Expr): Expr => (sf ? e : m.i64.and(e, m.i64.const(0xffffffffn)));
  const out: Expr[] = c.flags.prepare();
  out.push(
    m.local.set(cin, m.i64.extend_u(c.flags.c())),
    m.local.set(a, mask(c.x(rn))),
    m.local.set(b, mask(sub ? m.i64.xor(c.x(rm), m.i64.const(-1n)) : c.x(rm))),
    m.local.set(r, m.i64.add(m.i64.add(g(a), g(b)), g(cin))),
  );
  if (fl & FL_S) {
    let n: Expr, z: Expr, cf: Expr, v: Expr;
    if (sf) {
      n = m.i64.lt_s(g(r), m.i64.const(0n));
      z = m.i64.eqz(g(r));
      // carry out of a + b + cin: r < a, or r == a with a carry in (b all ones)
      cf = m.i32.or(m.i64.lt_u(g(r), g(a)), m.i32.and(m.i64.eq(g(r), g(a)), m.i32.wrap(g(cin))));
      v = m.i64.lt_s(m.i64.and(m.i64.xor(g(a), g(r)), m.i64.xor(g(b), g(r))), m.i64.const(0n));
    } else {
      const r32 = (): Expr => m.i32.wrap(g(r));
      n = m.i32.lt_s(r32(), m.i32.const(0));
      z = m.i32.eqz(r32());
      cf = m.i32.wrap(m.i64.shr_u(g(r), m.i64.const(32n)));
      v = m.i32.lt_s(m.i32.and(m.i32.xor(m.i32.wrap(g(a)), r32()), m.i32.xor(m.i32.wrap(g(b)), r32())), m.i32.const(0));
    }
    out.push(...c.flags.setPacked(m.i32.or(m.i32.or(m.i32.shl(n, m.i32.const(3)), m.i32.shl(z, m.i32.const(2))), m.i32.or(m.i32.shl(cf, m.i32.const(1)), v))));
  }
  out.push(c.setX(rd, mask(g(r))));
  return out;
}

function logical(c: A64Ctx, rd: number, rn: number, b: Expr, op: number, sf: boolean): Expr[] {
  const m = c.m;
  const o = sf ? m.i64 : m.i32;
  const a = sf ? c.x(rn) : w(c, rn);
  const r = op === 1 ? o.or(a, b) : op === 2 ? o.xor(a, b) : o.and(a, b);
  if (op !== 3) return [sf ? c.setX(rd, r) : setW(c, rd, r)];
  const out = c.flags.record(K_LOGIC, sf, null, null, r);
  const v = c.flags.res();
  out.push(sf ? c.setX(rd, v) : setW(c, rd, v));
  return out;
}

/** Reverse the bits of an i64 (rbit) by the usual swap ladder. */
function rbit64(c: A64Ctx, v: Expr): Seq {
  const m = c.m;
  const t = c.tmp(I64);
  const g = (): Expr => m.local.get(t, I64);
  const step = (sh: number, mask: bigint): Expr =>
    m.local.set(t, m.i64.or(m.i64.and(m.i64.shr_u(g(), m.i64.const(BigInt(sh))), m.i64.const(BigInt.asIntN(64, mask))), m.i64.shl(m.i64.and(g(), m.i64.const(BigInt.asIntN(64, mask))), m.i64.const(BigInt(sh)))));
  const s = [
    m.local.set(t, v),
    step(1, 0x5555555555555555n),
    step(2, 0x3333333333333333n),
    step(4, 0x0f0f0f0f0f0f0f0fn),
    step(8, 0x00ff00ff00ff00ffn),
    step(16, 0x0000ffff0000ffffn),
    m.local.set(t, m.i64.rotl(g(), m.i64.const(32n))),
  ];
  return { s, t };
}

/** Byte swap within each 16-bit (unit 16), 32-bit (32) or the whole 64-bit (64) lane of an i64 local. */
function byteSwap(c: A64Ctx, v: Expr, unit: 16 | 32 | 64): Seq {
  const m = c.m;
  const t = c.tmp(I64);
  const g = (): Expr => m.local.get(t, I64);
  const swap = (sh: number, mask: bigint): Expr =>
    m.local.set(t, m.i64.or(m.i64.and(m.i64.shr_u(g(), m.i64.const(BigInt(sh))), m.i64.const(BigInt.asIntN(64, mask))), m.i64.shl(m.i64.and(g(), m.i64.const(BigInt.asIntN(64, mask))), m.i64.const(BigInt(sh)))));
  const out = [m.local.set(t, v), swap(8, 0x00ff00ff00ff00ffn)];
  if (unit >= 32) out.push(swap(16, 0x0000ffff0000ffffn));
  if (unit === 64) out.push(m.local.set(t, m.i64.rotl(g(), m.i64.const(32n))));
  return { s: out, t };
}

/** High 64 bits of the unsigned 128-bit product a * b, in 32-bit limbs (no wide-arithmetic). */
function umulh(c: A64Ctx, a: Expr, b: Expr, signed: boolean): Seq {
  const m = c.m;
  const ta = c.tmp(I64), tb = c.tmp(I64), t = c.tmp(I64), m1 = c.tmp(I64), m2 = c.tmp(I64), h = c.tmp(I64);
  const g = (i: number): Expr => m.local.get(i, I64);
  const lo = (e: Expr): Expr => m.i64.and(e, m.i64.const(0xffffffffn));
  const hi = (e: Expr): Expr => m.i64.shr_u(e, m.i64.const(32n));
  const out = [
    m.local.set(ta, a),
    m.local.set(tb, b),
    m.local.set(t, m.i64.mul(lo(g(ta)), lo(g(tb)))),
    m.local.set(m1, m.i64.add(m.i64.mul(hi(g(ta)), lo(g(tb))), hi(g(t)))),
    m.local.set(m2, m.i64.add(m.i64.mul(lo(g(ta)), hi(g(tb))), lo(g(m1)))),
    m.local.set(h, m.i64.add(m.i64.add(m.i64.mul(hi(g(ta)), hi(g(tb))), hi(g(m1))), hi(g(m2)))),
  ];
  if (signed) {
    const zero = m.i64.const(0n);
    out.push(m.local.set(h, m.i64.sub(g(h), m.select(m.i64.lt_s(g(ta), zero), g(tb), m.i64.const(0n)))));
    out.push(m.local.set(h, m.i64.sub(g(h), m.select(m.i64.lt_s(g(tb), m.i64.const(0n)), g(ta), m.i64.const(0n)))));
  }
  return { s: out, t: h };
}

/**
 * Statements for data-processing record at recs[o..]; null when `op` is not one of them.
 * `op` is recs[o] (Op values of emulator/arm64/decode.ts).
 */
export function lowerAlu(c: A64Ctx, recs: Int32Array, o: number): Expr[] | null {
  const m = c.m;
  const op = recs[o]!;
  const regs = recs[o + R_REGS]!;
  const rd = regs & 0xff, rn = (regs >>> 8) & 0xff, rm = (regs >>> 16) & 0xff, ra = regs >>> 24;
  const fl = recs[o + R_FL]!;
  const sf = (fl & FL_SF) !== 0;
  const A = recs[o + R_A]!, B = recs[o + R_B]!, C = recs[o + R_C]!, D = recs[o + R_D]!;
  switch (op) {
    case 1 /* Op.NOP */:
    case 33 /* Op.BTI */:
      return [];
    case 2 /* Op.MOVI */:
      return [c.setX(rd, i64pair(m, A, B))];
    case 3 /* Op.MOVK */: {
      const mask = ~(0xffffn << BigInt(C));
      const v = m.i64.or(m.i64.and(c.x(rd), m.i64.const(BigInt.asIntN(64, mask))), m.i64.const(BigInt.asIntN(64, BigInt(A) << BigInt(C))));
      return [c.setX(rd, sf ? v : m.i64.and(v, m.i64.const(0xffffffffn)))];
    }
    case 4 /* Op.ADD_IMM */:
      return addSub(c, rd, rn, sf ? m.i64.const(BigInt(A)) : m.i32.const(A), fl);
    case 5 /* Op.ADD_SREG */:
      return addSub(c, rd, rn, sf ? shift64(m, c.x(rm), C, A) : shift32(m, w(c, rm), C, A), fl);
    case 6 /* Op.ADD_EREG */: {
      const e = extendReg(m, c.x(rm), C, A);
      return addSub(c, rd, rn, sf ? e : m.i32.wrap(e), fl);
    }
    case 7 /* Op.ADC */:
      return adc(c, rd, rn, rm, fl);
    case 8 /* Op.LOG_IMM */:
      return logical(c, rd, rn, sf ? i64pair(m, A, B) : m.i32.const(A), C, sf);
    case 9 /* Op.LOG_SREG */: {
      let b = sf ? shift64(m, c.x(rm), C, A) : shift32(m, w(c, rm), C, A);
      if (B) b = sf ? m.i64.xor(b, m.i64.const(-1n)) : m.i32.xor(b, m.i32.const(-1));
      return logical(c, rd, rn, b, D, sf);
    }
    case 10 /* Op.UBFM */: {
      if (sf) return [c.setX(rd, m.i64.and(shift64(m, c.x(rn), 3, rm), i64pair(m, A, B)))];
      return [setW(c, rd, m.i32.and(shift32(m, w(c, rn), 3, rm), m.i32.const(A)))];
    }
    case 11 /* Op.SBFM */:
    case 12 /* Op.BFM */: {
      const r = rm, s = ra;
      const wmask = k64(A, B), tmask = k64(C, D);
      const src = c.tmp(I64);
      const g = (i: number): Expr => m.local.get(i, I64);
      const rot = sf ? shift64(m, g(src), 3, r) : m.i64.extend_u(shift32(m, m.i32.wrap(g(src)), 3, r));
      const out: Expr[] = [m.local.set(src, c.x(rn))];
      const K = (v: bigint): Expr => i64const(m, v);
      const width = sf ? 64n : 32n;
      const ones = (1n << width) - 1n;
      if (op === 11) {
        // top = replicate(src<s>); rd = (top & ~tmask) | (ror(src, r) & wmask & tmask)
        const top = m.i64.shr_s(m.i64.shl(g(src), m.i64.const(BigInt(63 - s))), m.i64.const(63n));
        let v = m.i64.or(m.i64.and(top, K(~tmask & ones)), m.i64.and(rot, K(wmask & tmask)));
        if (!sf) v = m.i64.and(v, K(0xffffffffn));
        out.push(c.setX(rd, v));
      } else {
        const dst = c.tmp(I64);
        out.push(m.local.set(dst, c.x(rd)));
        const bot = m.i64.or(m.i64.and(g(dst), K(~wmask & ones)), m.i64.and(rot, K(wmask)));
        let v = m.i64.or(m.i64.and(g(dst), K(~tmask & ones)), m.i64.and(bot, K(tmask)));
        if (!sf) v = m.i64.and(v, K(0xffffffffn));
        out.push(c.setX(rd, v));
      }
      return out;
    }
    case 13 /* Op.EXTR */: {
      const lsb = A;
      if (sf) {
        if (lsb === 0) return [c.setX(rd, c.x(rm))];
        return [c.setX(rd, m.i64.or(m.i64.shr_u(c.x(rm), m.i64.const(BigInt(lsb))), m.i64.shl(c.x(rn), m.i64.const(BigInt(64 - lsb)))))];
      }
      if (lsb === 0) return [setW(c, rd, w(c, rm))];
      return [setW(c, rd, m.i32.or(m.i32.shr_u(w(c, rm), m.i32.const(lsb)), m.i32.shl(w(c, rn), m.i32.const(32 - lsb))))];
    }
    case 14 /* Op.SHIFTV */: {
      // wasm shift counts are taken modulo the width, as Arm's (rm mod datasize)
      if (sf) {
        const a = c.x(rn), k = c.x(rm);
        const v = C === 0 ? m.i64.shl(a, k) : C === 1 ? m.i64.shr_u(a, k) : C === 2 ? m.i64.shr_s(a, k) : m.i64.rotr(a, k);
        return [c.setX(rd, v)];
      }
      const a = w(c, rn), k = w(c, rm);
      const v = C === 0 ? m.i32.shl(a, k) : C === 1 ? m.i32.shr_u(a, k) : C === 2 ? m.i32.shr_s(a, k) : m.i32.rotr(a, k);
      return [setW(c, rd, v)];
    }
    case 15 /* Op.UDIV */:
    case 16 /* Op.SDIV */: {
      const ty = sf ? I64 : I32;
      const o2 = sf ? m.i64 : m.i32;
      const zero = (): Expr => (sf ? m.i64.const(0n) : m.i32.const(0));
      const ta = c.tmp(ty), tb = c.tmp(ty);
      const g = (i: number): Expr => m.local.get(i, ty);
      let q: Expr;
      if (op === 15) q = m.if(o2.eqz(g(tb)), zero(), o2.div_u(g(ta), g(tb)));
      else {
        const minus1 = sf ? m.i64.const(-1n) : m.i32.const(-1);
        q = m.if(o2.eqz(g(tb)), zero(), m.if(o2.eq(g(tb), minus1), o2.sub(zero(), g(ta)), o2.div_s(g(ta), g(tb))));
      }
      return [m.local.set(ta, sf ? c.x(rn) : w(c, rn)), m.local.set(tb, sf ? c.x(rm) : w(c, rm)), sf ? c.setX(rd, q) : setW(c, rd, q)];
    }
    case 17 /* Op.MADD */: {
      const sub = (fl & FL_SUB) !== 0;
      if (sf) {
        const p = m.i64.mul(c.x(rn), c.x(rm));
        return [c.setX(rd, sub ? m.i64.sub(c.x(ra), p) : m.i64.add(c.x(ra), p))];
      }
      const p = m.i32.mul(w(c, rn), w(c, rm));
      return [setW(c, rd, sub ? m.i32.sub(w(c, ra), p) : m.i32.add(w(c, ra), p))];
    }
    case 18 /* Op.MADDL */: {
      const ext = (e: Expr): Expr => (C ? m.i64.extend_s(m.i32.wrap(e)) : m.i64.extend_u(m.i32.wrap(e)));
      const p = m.i64.mul(ext(c.x(rn)), ext(c.x(rm)));
      return [c.setX(rd, (fl & FL_SUB) !== 0 ? m.i64.sub(c.x(ra), p) : m.i64.add(c.x(ra), p))];
    }
    case 19 /* Op.UMULH */:
    case 20 /* Op.SMULH */: {
      const q = umulh(c, c.x(rn), c.x(rm), op === 20);
      return [...q.s, c.setX(rd, m.local.get(q.t, I64))];
    }
    case 21 /* Op.CSEL */: {
      const t = c.tmp(I32);
      let other: Expr = c.x(rm);
      switch (C) {
        case 1: other = m.i64.add(other, m.i64.const(1n)); break;
        case 2: other = m.i64.xor(other, m.i64.const(-1n)); break;
        case 3: other = m.i64.sub(m.i64.const(0n), other); break;
        default: break;
      }
      let v = m.select(m.local.get(t, I32), c.x(rn), other);
      if (!sf) v = m.i64.and(v, m.i64.const(0xffffffffn));
      return [...c.flags.prepare(), m.local.set(t, c.flags.cond(A)), c.setX(rd, v)];
    }
    case 22 /* Op.CCMP */: {
      const t = c.tmp(I32);
      const f = c.flags;
      const b = B ? (sf ? m.i64.const(BigInt(C)) : m.i32.const(C)) : sf ? c.x(rm) : w(c, rm);
      const out: Expr[] = [...f.prepare(), m.local.set(t, f.cond(A))];
      out.push(...f.record((fl & FL_SUB) !== 0 ? K_SUB : K_ADD, sf, sf ? c.x(rn) : w(c, rn), b, null));
      out.push(...f.setPacked(m.select(m.local.get(t, I32), f.packed(), m.i32.const(D))));
      return out;
    }
    case 23 /* Op.UNARY */: {
      const src = sf ? c.x(rn) : m.i64.extend_u(w(c, rn));
      switch (C) {
        case 0: {
          const q = rbit64(c, src);
          const val = m.local.get(q.t, I64);
          return [...q.s, c.setX(rd, sf ? val : m.i64.shr_u(val, m.i64.const(32n)))];
        }
        case 1:
        case 2:
        case 3: {
          const unit = C === 1 ? 16 : C === 2 ? 32 : sf ? 64 : 32;
          const q = byteSwap(c, src, unit);
          return [...q.s, c.setX(rd, m.local.get(q.t, I64))];
        }
        case 4:
          return [sf ? c.setX(rd, m.i64.clz(c.x(rn))) : setW(c, rd, m.i32.clz(w(c, rn)))];
        default: {
          if (sf) {
            const t = c.tmp(I64);
            const g = (): Expr => m.local.get(t, I64);
            return [m.local.set(t, c.x(rn)), c.setX(rd, m.i64.clz(m.i64.or(m.i64.xor(g(), m.i64.shl(g(), m.i64.const(1n))), m.i64.const(1n))))];
          }
          const t = c.tmp(I32);
          const g = (): Expr => m.local.get(t, I32);
          return [m.local.set(t, w(c, rn)), setW(c, rd, m.i32.clz(m.i32.or(m.i32.xor(g(), m.i32.shl(g(), m.i32.const(1))), m.i32.const(1))))];
        }
      }
    }
    default:
      return null;
  }
}
