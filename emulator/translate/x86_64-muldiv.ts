// x86_64 one-operand mul / imul (widening into rdx:rax, dx:ax or ax) and div / idiv in translated
// code, mirroring emulator/x86_64/exec.ts unary() and alu.ts divide() / mulFlags().
//
// Division: every case the interpreter answers with #DE (zero divisor, quotient out of range,
// INT_MIN / -1) exits BEFORE the instruction, so the interpreter runs it and raises its own
// GuestTrap (pc, text, message) with untouched registers. 8/16/32-bit forms divide in i64 (their
// dividends have at most 64 bits; a divisor of -1 is negated, never divided, so wasm never traps);
// 64-bit forms divide rdx:rax as a 128-bit value: one i64 division when the high half is zero
// (after taking absolute values for idiv), else 64 steps of restoring shift-subtract division,
// which is exact whenever the quotient fits (the high half is below the divisor, checked first).
// Division leaves the flags alone (as the interpreter does); mul/imul set them eagerly (F_RAW:
// CF = OF = overflow, SF/ZF/PF from the low result).

import binaryen from 'binaryen';
import type { Expr } from './types.js';
import type { X86Tx } from './x86_64-ctx.js';
import { c64, CF, F_RAW, OF, resultFlags, setRaw, sext, sizeMask } from './x86_64-flags.js';

const I64 = binaryen.i64;
const I32 = binaryen.i32;
const RAX = 0;
const RDX = 2;
let loopId = 0;

/** High 64 bits of the 128-bit product a * b (signed: of the two's complement values). */
function mulHigh(t: X86Tx, a: () => Expr, b: () => Expr, signed: boolean): () => Expr {
  const m = t.m;
  const lo = (x: Expr): Expr => m.i64.and(x, c64(m, -1, 0));
  const hi = (x: Expr): Expr => m.i64.shr_u(x, c64(m, 32, 0));
  const p = t.tmp(m.i64.mul(lo(a()), lo(b())));
  const m1 = t.tmp(m.i64.add(m.i64.mul(hi(a()), lo(b())), hi(p())));
  const m2 = t.tmp(m.i64.add(m.i64.mul(lo(a()), hi(b())), lo(m1())));
  let h = t.tmp(m.i64.add(m.i64.add(m.i64.mul(hi(a()), hi(b())), hi(m1())), hi(m2())));
  if (signed) {
    const zero = (): Expr => c64(m, 0, 0);
    const h1 = h;
    const h2 = t.tmp(m.i64.sub(h1(), m.select(m.i64.lt_s(a(), zero()), b(), zero())));
    h = t.tmp(m.i64.sub(h2(), m.select(m.i64.lt_s(b(), zero()), a(), zero())));
  }
  return h;
}

/** mul / imul r/m (UNARY kinds 4 / 5) of `size` bytes. */
export function lowerMul(t: X86Tx, size: number, signed: boolean): void {
  const m = t.m;
  const e = t.e;
  const v = t.tmp(t.readRm(size));
  let low: () => Expr;
  let ov: () => Expr;
  if (size === 8) {
    const a = t.tmp(e.get(RAX));
    low = t.tmp(m.i64.mul(a(), v()));
    const high = mulHigh(t, a, v, signed);
    ov = t.tmp32(m.i64.ne(high(), signed ? m.i64.shr_s(low(), c64(m, 63, 0)) : c64(m, 0, 0)));
    t.emit(e.set(RAX, low()), e.set(RDX, high()));
  } else {
    const a = t.getReg(RAX, size);
    const p = t.tmp(signed ? m.i64.mul(sext(m, a, size), sext(m, v(), size)) : m.i64.mul(a, v()));
    low = t.tmp(m.i64.and(p(), sizeMask(m, size)));
    ov = t.tmp32(signed ? m.i64.ne(sext(m, low(), size), p()) : m.i64.ne(m.i64.shr_u(p(), c64(m, size * 8, 0)), c64(m, 0, 0)));
    if (size === 4) t.emit(t.setReg(RAX, 4, low()), t.setReg(RDX, 4, m.i64.shr_u(p(), c64(m, 32, 0))));
    else if (size === 2) t.emit(t.setReg(RAX, 2, p()), t.setReg(RDX, 2, m.i64.shr_s(p(), c64(m, 16, 0))));
    else t.emit(t.setReg(RAX, 2, p()));
  }
  const flags = m.i32.or(resultFlags(e, size, low), m.select(ov(), m.i32.const(CF | OF), m.i32.const(0)));
  t.emit(...setRaw(e, flags));
  t.known = { kind: F_RAW, size };
}

/** Statements: (nh:nl) / d by restoring division, quotient into nl, remainder into nh (nh < d). */
function divideWide(t: X86Tx, nh: number, nl: number, d: () => Expr): Expr {
  const m = t.m;
  const g = (l: number): Expr => m.local.get(l, I64);
  const one = (): Expr => c64(m, 1, 0);
  const top = (): Expr => c64(m, 63, 0);
  const carry = t.e.local(I32);
  const cnt = t.e.local(I32);
  const label = `x$div${loopId++}`;
  return m.block(null, [
    m.local.set(cnt, m.i32.const(64)),
    m.loop(
      label,
      m.block(null, [
        m.local.set(carry, m.i32.wrap(m.i64.shr_u(g(nh), top()))),
        m.local.set(nh, m.i64.or(m.i64.shl(g(nh), one()), m.i64.shr_u(g(nl), top()))),
        m.local.set(nl, m.i64.shl(g(nl), one())),
        m.if(m.i32.or(m.local.get(carry, I32), m.i64.ge_u(g(nh), d())), m.block(null, [m.local.set(nh, m.i64.sub(g(nh), d())), m.local.set(nl, m.i64.or(g(nl), one()))])),
        m.local.set(cnt, m.i32.sub(m.local.get(cnt, I32), m.i32.const(1))),
        m.br(label, m.i32.ne(m.local.get(cnt, I32), m.i32.const(0))),
      ]),
    ),
  ]);
}

/** div / idiv r/m (UNARY kinds 6 / 7) of `size` bytes; #DE leaves for the interpreter. */
export function lowerDiv(t: X86Tx, size: number, signed: boolean): void {
  const m = t.m;
  const e = t.e;
  const k = (lo: number, hi = 0): Expr => c64(m, lo, hi);
  const divideError = (cond: Expr): void => t.emit(m.if(cond, e.exitResume(t.k)));
  const v = t.tmp(t.readRm(size));
  divideError(m.i64.eqz(v()));
  if (size === 8) {
    const rax = t.tmp(e.get(RAX));
    const rdx = t.tmp(e.get(RDX));
    const nl = e.local(I64);
    const nh = e.local(I64);
    const g = (l: number): Expr => m.local.get(l, I64);
    let nNeg: (() => Expr) | null = null;
    let negQ: (() => Expr) | null = null;
    let d = v;
    if (signed) {
      const nn = t.tmp32(m.i64.lt_s(rdx(), k(0)));
      const dn = t.tmp32(m.i64.lt_s(v(), k(0)));
      nNeg = nn;
      negQ = t.tmp32(m.i32.xor(nn(), dn()));
      t.emit(m.local.set(nl, m.select(nn(), m.i64.sub(k(0), rax()), rax())));
      t.emit(m.local.set(nh, m.select(nn(), m.i64.add(m.i64.xor(rdx(), k(-1, -1)), m.i64.extend_u(m.i64.eqz(rax()))), rdx())));
      d = t.tmp(m.select(dn(), m.i64.sub(k(0), v()), v()));
    } else {
      t.emit(m.local.set(nl, rax()), m.local.set(nh, rdx()));
    }
    // The quotient needs more than 64 bits.
    divideError(m.i64.ge_u(g(nh), d()));
    t.emit(
      m.if(
        m.i64.eqz(g(nh)),
        m.block(null, [m.local.set(nh, m.i64.rem_u(g(nl), d())), m.local.set(nl, m.i64.div_u(g(nl), d()))]),
        divideWide(t, nh, nl, d),
      ),
    );
    let q = g(nl);
    let r = g(nh);
    if (signed) {
      // |q| <= 2^63 when negative, < 2^63 otherwise.
      const limit = (): Expr => k(0, 0x80000000);
      divideError(m.select(negQ!(), m.i64.gt_u(g(nl), limit()), m.i64.ge_u(g(nl), limit())));
      q = m.select(negQ!(), m.i64.sub(k(0), g(nl)), g(nl));
      r = m.select(nNeg!(), m.i64.sub(k(0), g(nh)), g(nh));
    }
    const qv = t.tmp(q);
    const rv = t.tmp(r);
    t.emit(e.set(RAX, qv()), e.set(RDX, rv()));
    return;
  }
  let n: Expr;
  if (size === 4) {
    const low = m.i64.and(e.get(RAX), k(-1));
    n = m.i64.or(m.i64.shl(signed ? e.get(RDX) : m.i64.and(e.get(RDX), k(-1)), k(32)), low);
  } else if (size === 2) {
    const w = m.i64.or(m.i64.shl(m.i64.and(e.get(RDX), k(0xffff)), k(16)), m.i64.and(e.get(RAX), k(0xffff)));
    n = signed ? m.i64.extend32_s(w) : w;
  } else n = signed ? m.i64.extend16_s(e.get(RAX)) : m.i64.and(e.get(RAX), k(0xffff));
  const nv = t.tmp(n);
  const d = t.tmp(signed ? sext(m, v(), size) : v());
  const q = e.local(I64);
  const r = e.local(I64);
  const g = (l: number): Expr => m.local.get(l, I64);
  const divide = m.block(null, [m.local.set(q, signed ? m.i64.div_s(nv(), d()) : m.i64.div_u(nv(), d())), m.local.set(r, signed ? m.i64.rem_s(nv(), d()) : m.i64.rem_u(nv(), d()))]);
  if (signed) t.emit(m.if(m.i64.eq(d(), k(-1, -1)), m.block(null, [m.local.set(q, m.i64.sub(k(0), nv())), m.local.set(r, k(0))]), divide));
  else t.emit(divide);
  divideError(signed ? m.i64.ne(sext(m, m.i64.and(g(q), sizeMask(m, size)), size), g(q)) : m.i64.gt_u(g(q), sizeMask(m, size)));
  if (size === 1) t.emit(t.setReg(RAX, 2, m.i64.or(m.i64.and(g(q), k(0xff)), m.i64.shl(m.i64.and(g(r), k(0xff)), k(8)))));
  else t.emit(t.setReg(RAX, size, g(q)), t.setReg(RDX, size, g(r)));
}
