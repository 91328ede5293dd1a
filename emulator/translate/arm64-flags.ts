// Lazy NZCV for the arm64 translator, kept in four register slots (types.ts protocol §7): a
// flag-setting instruction stores its kind and operands, consumers (b.cond, csel, ccmp, adc)
// evaluate their condition straight from the operands (`subs; b.ne` becomes one i64.ne), and NZCV
// is computed as bits only where something needs the bits: a consumer in a later block (one call
// of the module's `a64_nzcv` function) or storeState when control returns to the interpreter.
// This is QEMU's cc_op / Bochs's lazy flags, with the kind resolved at translation time inside a
// block.
//
// Slot encoding (FK, FA, FB, FR):
//   FK = 0            NZCV packed in FA bits 3..0 (Arm64Machine.nzcv order N Z C V)
//   FK = 1 / 5        FA - FB (64-bit / 32-bit operands zero-extended); flags of SUBS
//   FK = 2 / 6        FA + FB; flags of ADDS
//   FK = 3 / 7        FR; flags of ANDS (N, Z; C = V = 0)
// Invariants: within a block `kind` is the static state at the emission point (K_DYN = whatever
// the slots say); every expression built here is pure (no memory access, no trap).
// Condition semantics: Arm ARM ConditionHolds.

import binaryen from 'binaryen';
import type { Expr } from './types.js';

export const K_DYN = -1, K_NZCV = 0, K_SUB = 1, K_ADD = 2, K_LOGIC = 3;
/** FK value offset of the 32-bit forms. */
export const K_W = 4;

export interface SlotAccess {
  get(slot: number): Expr;
  set(slot: number, value: Expr): Expr;
  local(type: binaryen.Type): number;
}

export interface FlagSlots {
  fk: number;
  fa: number;
  fb: number;
  fr: number;
}

const NZCV_FN = 'a64_nzcv';

/** Packed NZCV from a lazy record, on 32-bit pairs (storeState; mirrors `a64_nzcv`). */
export function nzcvFromRecord(kind: number, alo: number, ahi: number, blo: number, bhi: number, rlo: number, rhi: number): number {
  if (kind === K_NZCV) return alo & 15;
  const w = kind >= K_W;
  const k = w ? kind - K_W : kind;
  if (w) {
    // A 32-bit operation's flags are those of the same operation on the values shifted up by 32.
    ahi = alo; alo = 0; bhi = blo; blo = 0; rhi = rlo; rlo = 0;
  }
  let n: number, z: number, c: number, v: number;
  if (k === K_SUB) {
    const l = (alo >>> 0) - (blo >>> 0);
    rlo = l | 0;
    rhi = ((ahi | 0) - (bhi | 0) - (l < 0 ? 1 : 0)) | 0;
    n = rhi >>> 31;
    z = (rlo | rhi) === 0 ? 1 : 0;
    c = ahi >>> 0 !== bhi >>> 0 ? (ahi >>> 0 > bhi >>> 0 ? 1 : 0) : alo >>> 0 >= blo >>> 0 ? 1 : 0;
    v = ((ahi ^ bhi) & (ahi ^ rhi)) >>> 31;
  } else if (k === K_ADD) {
    const l = (alo >>> 0) + (blo >>> 0);
    const h = (ahi >>> 0) + (bhi >>> 0) + (l > 0xffffffff ? 1 : 0);
    rlo = l | 0;
    rhi = h | 0;
    n = rhi >>> 31;
    z = (rlo | rhi) === 0 ? 1 : 0;
    c = h > 0xffffffff ? 1 : 0;
    v = ((ahi ^ rhi) & (bhi ^ rhi)) >>> 31;
  } else {
    n = rhi >>> 31;
    z = (rlo | rhi) === 0 ? 1 : 0;
    c = 0;
    v = 0;
  }
  return (n << 3) | (z << 2) | (c << 1) | v;
}

/** Add `a64_nzcv(fk, fa, fb, fr) -> i32` (packed NZCV of a lazy record) to the module once. */
function ensureNzcvFunction(m: binaryen.Module): void {
  if (m.getFunction(NZCV_FN) !== 0) return;
  const I64 = binaryen.i64;
  const [K, A, B, R] = [0, 1, 2, 3];
  const g = (i: number): Expr => m.local.get(i, I64);
  const k = (): Expr => m.i32.wrap(g(K));
  const c32 = (v: number): Expr => m.i32.const(v);
  const c64 = (v: bigint): Expr => m.i64.const(v);
  const pack = (n: Expr, z: Expr, c: Expr, v: Expr): Expr =>
    m.i32.or(m.i32.or(m.i32.shl(n, c32(3)), m.i32.shl(z, c32(2))), m.i32.or(m.i32.shl(c, c32(1)), v));
  const body = m.block(null, [
    m.if(m.i32.eqz(k()), m.return(m.i32.and(m.i32.wrap(g(A)), c32(15)))),
    m.if(
      m.i32.ge_u(k(), c32(K_W)),
      m.block(null, [
        m.local.set(A, m.i64.shl(g(A), c64(32n))),
        m.local.set(B, m.i64.shl(g(B), c64(32n))),
        m.local.set(R, m.i64.shl(g(R), c64(32n))),
        m.local.set(K, m.i64.sub(g(K), c64(BigInt(K_W)))),
      ]),
    ),
    m.if(
      m.i64.eq(g(K), c64(BigInt(K_SUB))),
      m.block(null, [
        m.local.set(R, m.i64.sub(g(A), g(B))),
        m.return(pack(m.i64.lt_s(g(R), c64(0n)), m.i64.eq(g(A), g(B)), m.i64.ge_u(g(A), g(B)), m.i64.lt_s(m.i64.and(m.i64.xor(g(A), g(B)), m.i64.xor(g(A), g(R))), c64(0n)))),
      ]),
    ),
    m.if(
      m.i64.eq(g(K), c64(BigInt(K_ADD))),
      m.block(null, [
        m.local.set(R, m.i64.add(g(A), g(B))),
        m.return(pack(m.i64.lt_s(g(R), c64(0n)), m.i64.eqz(g(R)), m.i64.lt_u(g(R), g(A)), m.i64.lt_s(m.i64.and(m.i64.xor(g(A), g(R)), m.i64.xor(g(B), g(R))), c64(0n)))),
      ]),
    ),
    m.return(pack(m.i64.lt_s(g(R), c64(0n)), m.i64.eqz(g(R)), c32(0), c32(0))),
  ]);
  m.addFunction(NZCV_FN, binaryen.createType([I64, I64, I64, I64]), binaryen.i32, [], body);
}

export class LazyFlags {
  kind = K_DYN;
  sf = true;
  /** Local caching the packed NZCV of the dynamic state once computed in this block (-1 none). */
  private dynLocal = -1;

  constructor(
    private readonly m: binaryen.Module,
    private readonly e: SlotAccess,
    readonly s: FlagSlots,
  ) {}

  /**
   * Statements recording `a op b` (K_SUB / K_ADD) or result r (K_LOGIC) as the current flags.
   * a, b, r are i64 for 64-bit setters and i32 for 32-bit ones.
   */
  record(kind: number, sf: boolean, a: Expr | null, b: Expr | null, r: Expr | null): Expr[] {
    const m = this.m, e = this.e, s = this.s;
    this.kind = kind;
    this.sf = sf;
    this.dynLocal = -1;
    const wide = (x: Expr): Expr => (sf ? x : m.i64.extend_u(x));
    const out = [e.set(s.fk, m.i64.const(BigInt(sf ? kind : kind + K_W)))];
    if (kind === K_LOGIC) out.push(e.set(s.fr, wide(r!)));
    else out.push(e.set(s.fa, wide(a!)), e.set(s.fb, wide(b!)));
    return out;
  }

  /** Statements making NZCV the packed i32 value `v` (bits 3..0). */
  setPacked(v: Expr): Expr[] {
    const m = this.m;
    this.kind = K_NZCV;
    this.sf = true;
    this.dynLocal = -1;
    return [this.e.set(this.s.fk, m.i64.const(0n)), this.e.set(this.s.fa, m.i64.extend_u(v))];
  }

  /** Statements to run before evaluating conditions in state K_DYN (caches the bits). */
  prepare(): Expr[] {
    if (this.kind !== K_DYN) return [];
    const m = this.m, e = this.e, s = this.s;
    ensureNzcvFunction(m);
    this.dynLocal = e.local(binaryen.i32);
    this.kind = K_NZCV;
    return [m.local.set(this.dynLocal, m.call(NZCV_FN, [e.get(s.fk), e.get(s.fa), e.get(s.fb), e.get(s.fr)], binaryen.i32))];
  }

  private opA(): Expr {
    return this.sf ? this.e.get(this.s.fa) : this.m.i32.wrap(this.e.get(this.s.fa));
  }
  private opB(): Expr {
    return this.sf ? this.e.get(this.s.fb) : this.m.i32.wrap(this.e.get(this.s.fb));
  }
  /** Result of the recorded K_SUB / K_ADD / K_LOGIC operation (i64 / i32 by sf). */
  res(): Expr {
    const m = this.m;
    if (this.kind === K_LOGIC) return this.sf ? this.e.get(this.s.fr) : m.i32.wrap(this.e.get(this.s.fr));
    const o = this.sf ? m.i64 : m.i32;
    return this.kind === K_SUB ? o.sub(this.opA(), this.opB()) : o.add(this.opA(), this.opB());
  }
  private zero(): Expr {
    return this.sf ? this.m.i64.const(0n) : this.m.i32.const(0);
  }
  private packedBits(): Expr {
    // K_NZCV: either the block's cached dynamic value or the slot written by setPacked.
    if (this.dynLocal >= 0) return this.m.local.get(this.dynLocal, binaryen.i32);
    return this.m.i32.wrap(this.e.get(this.s.fa));
  }
  private bit(k: number): Expr {
    const m = this.m;
    return m.i32.and(m.i32.shr_u(this.packedBits(), m.i32.const(k)), m.i32.const(1));
  }

  n(): Expr {
    if (this.kind === K_NZCV) return this.bit(3);
    const o = this.sf ? this.m.i64 : this.m.i32;
    return o.lt_s(this.res(), this.zero());
  }

  z(): Expr {
    if (this.kind === K_NZCV) return this.bit(2);
    const o = this.sf ? this.m.i64 : this.m.i32;
    if (this.kind === K_SUB) return o.eq(this.opA(), this.opB());
    return o.eqz(this.res());
  }

  c(): Expr {
    const m = this.m;
    const o = this.sf ? m.i64 : m.i32;
    switch (this.kind) {
      case K_NZCV: return this.bit(1);
      case K_SUB: return o.ge_u(this.opA(), this.opB());
      case K_ADD: return o.lt_u(this.res(), this.opA());
      default: return m.i32.const(0);
    }
  }

  v(): Expr {
    const m = this.m;
    const o = this.sf ? m.i64 : m.i32;
    switch (this.kind) {
      case K_NZCV: return this.bit(0);
      case K_SUB: return o.lt_s(o.and(o.xor(this.opA(), this.opB()), o.xor(this.opA(), this.res())), this.zero());
      case K_ADD: return o.lt_s(o.and(o.xor(this.opA(), this.res()), o.xor(this.opB(), this.res())), this.zero());
      default: return m.i32.const(0);
    }
  }

  /** Packed NZCV (bits 3..0) as an i32 expression (call prepare() first in K_DYN). */
  packed(): Expr {
    const m = this.m;
    if (this.kind === K_NZCV) return m.i32.and(this.packedBits(), m.i32.const(15));
    return m.i32.or(
      m.i32.or(m.i32.shl(this.n(), m.i32.const(3)), m.i32.shl(this.z(), m.i32.const(2))),
      m.i32.or(m.i32.shl(this.c(), m.i32.const(1)), this.v()),
    );
  }

  /** ConditionHolds(cond) as an i32 0/1 expression (call prepare() first in K_DYN). */
  cond(cond: number): Expr {
    const m = this.m;
    const base = cond >> 1;
    if (base === 7) return m.i32.const(1);
    const inv = (cond & 1) === 1;
    const direct = this.direct(base, inv);
    if (direct !== null) return direct;
    let e: Expr;
    switch (base) {
      case 0: e = this.z(); break;
      case 1: e = this.c(); break;
      case 2: e = this.n(); break;
      case 3: e = this.v(); break;
      case 4: e = m.i32.and(this.c(), m.i32.eqz(this.z())); break;
      case 5: e = m.i32.eq(this.n(), this.v()); break;
      default: e = m.i32.and(m.i32.eq(this.n(), this.v()), m.i32.eqz(this.z())); break;
    }
    return inv ? m.i32.eqz(e) : e;
  }

  /** One comparison instead of NZCV arithmetic, where the setter makes that exact. */
  private direct(base: number, inv: boolean): Expr | null {
    const m = this.m;
    const o = this.sf ? m.i64 : m.i32;
    if (this.kind === K_SUB) {
      const a = this.opA(), b = this.opB();
      switch (base) {
        case 0: return inv ? o.ne(a, b) : o.eq(a, b);
        case 1: return inv ? o.lt_u(a, b) : o.ge_u(a, b);
        case 4: return inv ? o.le_u(a, b) : o.gt_u(a, b);
        case 5: return inv ? o.lt_s(a, b) : o.ge_s(a, b);
        case 6: return inv ? o.le_s(a, b) : o.gt_s(a, b);
        default: return null;
      }
    }
    if (this.kind === K_LOGIC) {
      const r = this.res();
      switch (base) {
        case 0: return inv ? m.i32.eqz(o.eqz(r)) : o.eqz(r);
        case 1: case 3: case 4: return m.i32.const(inv ? 1 : 0);
        case 2: case 5: return (base === 2) !== inv ? o.lt_s(r, this.zero()) : o.ge_s(r, this.zero());
        default: return inv ? o.le_s(r, this.zero()) : o.gt_s(r, this.zero());
      }
    }
    return null;
  }
}
