// x86_64 flags in translated code: the interpreter's lazy flag record (emulator/x86_64/alu.ts) kept
// in register slots, and condition codes evaluated from it where a jcc/setcc/cmov consumes them.
//
// Slots (i64): FK kind (F_*), FSZ operand size, FR result, FA / FB operands (all zero-extended to
// the operand size, as alu.ts keeps them), FC carry-in / shift CF|OF, FRAW materialised EFLAGS.
// Invariant: after every translated instruction the slots hold exactly what the interpreter's `fl`
// would (so eflags() agrees on every defined and undefined bit the interpreter produces). A
// condition is evaluated statically from the kind of the block's last flag producer where that
// kind has a cheap direct form; otherwise (flags from an earlier block, adc/sbb, dynamic shifts)
// from the materialised EFLAGS, computed by the module's `x86_eflags` function, a line-by-line
// copy of alu.ts eflags() on the slots.

import binaryen from 'binaryen';
import { type BlockEmitter, type Expr, i64pair } from './types.js';

export const S_FK = 16;
export const S_FSZ = 17;
export const S_FR = 18;
export const S_FA = 19;
export const S_FB = 20;
export const S_FC = 21;
export const S_FRAW = 22;
export const X86_SLOTS = 23;

export const F_ADD = 1;
export const F_ADC = 2;
export const F_SUB = 3;
export const F_SBB = 4;
export const F_INC = 6;
export const F_DEC = 7;
export const F_LOGIC = 5;
export const F_RAW = 8;
export const F_SHIFT = 9;

export const CF = 0x1;
export const PF = 0x4;
const AF = 0x10;
export const ZF = 0x40;
export const SF = 0x80;
export const OF = 0x800;

/** Statically known producer of the current flags (null: unknown, read the slots generically). */
export interface KnownFlags {
  kind: number;
  size: number;
}

export function c64(m: binaryen.Module, lo: number, hi: number): Expr {
  return i64pair(m, lo, hi);
}

/** Mask of a size-byte value as an i64 constant. */
export function sizeMask(m: binaryen.Module, size: number): Expr {
  return size === 8 ? c64(m, -1, -1) : size === 4 ? c64(m, -1, 0) : size === 2 ? c64(m, 0xffff, 0) : c64(m, 0xff, 0);
}

export function signBit(m: binaryen.Module, size: number): Expr {
  return size === 8 ? c64(m, 0, 0x80000000) : c64(m, 1 << (size * 8 - 1), 0);
}

/** Sign-extend a zero-extended size-byte value to 64 bits. */
export function sext(m: binaryen.Module, v: Expr, size: number): Expr {
  return size === 8 ? v : size === 4 ? m.i64.extend32_s(v) : size === 2 ? m.i64.extend16_s(v) : m.i64.extend8_s(v);
}

/** Statements setting the lazy record for an add/sub/logic result (the interpreter's setFlags). */
export function setLazy(e: BlockEmitter, kind: number, size: number, r: Expr, a: Expr, b: Expr): Expr[] {
  const m = e.m;
  return [e.set(S_FK, c64(m, kind, 0)), e.set(S_FSZ, c64(m, size, 0)), e.set(S_FR, r), e.set(S_FA, a), e.set(S_FB, b)];
}

function nz(m: binaryen.Module, v: Expr): Expr {
  return m.i64.ne(v, c64(m, 0, 0));
}

function parityFlag(m: binaryen.Module, r: Expr): Expr {
  return m.i32.eqz(m.i32.and(m.i32.popcnt(m.i32.and(m.i32.wrap(r), m.i32.const(0xff))), m.i32.const(1)));
}

/** i32 0/1 flag values of a known add/sub/logic producer, from the slots. */
function flagOf(e: BlockEmitter, k: KnownFlags, flag: number): Expr | null {
  const m = e.m;
  const r = (): Expr => e.get(S_FR);
  const a = (): Expr => e.get(S_FA);
  const b = (): Expr => e.get(S_FB);
  const sb = (): Expr => signBit(m, k.size);
  if (k.kind === F_RAW) return m.i32.ne(m.i32.and(m.i32.wrap(e.get(S_FRAW)), m.i32.const(flag)), m.i32.const(0));
  switch (flag) {
    case ZF:
      return m.i64.eqz(r());
    case SF:
      return nz(m, m.i64.and(r(), sb()));
    case PF:
      return parityFlag(m, r());
    case CF: {
      const cin = (): Expr => m.i64.ne(m.i64.and(e.get(S_FC), c64(m, 1, 0)), c64(m, 0, 0));
      if (k.kind === F_ADD) return m.i64.lt_u(r(), a());
      if (k.kind === F_SUB) return m.i64.lt_u(a(), b());
      if (k.kind === F_ADC) return m.select(cin(), m.i64.le_u(r(), a()), m.i64.lt_u(r(), a()));
      if (k.kind === F_SBB) return m.select(cin(), m.i64.le_u(a(), b()), m.i64.lt_u(a(), b()));
      if (k.kind === F_LOGIC) return m.i32.const(0);
      if (k.kind === F_SHIFT || k.kind === F_INC || k.kind === F_DEC) return m.i32.wrap(m.i64.and(e.get(S_FC), c64(m, CF, 0)));
      return null;
    }
    case OF:
      if (k.kind === F_ADD || k.kind === F_ADC || k.kind === F_INC) return nz(m, m.i64.and(m.i64.and(m.i64.xor(a(), r()), m.i64.xor(b(), r())), sb()));
      if (k.kind === F_SUB || k.kind === F_SBB || k.kind === F_DEC) return nz(m, m.i64.and(m.i64.and(m.i64.xor(a(), b()), m.i64.xor(a(), r())), sb()));
      if (k.kind === F_LOGIC) return m.i32.const(0);
      if (k.kind === F_SHIFT) return nz(m, m.i64.and(e.get(S_FC), c64(m, OF, 0)));
      return null;
    default:
      return null;
  }
}

/** Generic ZF / SF from the slots whatever the kind (every kind but F_RAW derives them from FR). */
function genericZfSf(e: BlockEmitter, flag: number): Expr {
  const m = e.m;
  const isRaw = m.i64.eq(e.get(S_FK), c64(m, F_RAW, 0));
  const raw = m.i32.ne(m.i32.and(m.i32.wrap(e.get(S_FRAW)), m.i32.const(flag)), m.i32.const(0));
  const sz = e.get(S_FSZ);
  let fromRes: Expr;
  if (flag === ZF) {
    fromRes = m.i64.eqz(m.select(m.i64.eq(sz, c64(m, 8, 0)), e.get(S_FR), m.i64.and(e.get(S_FR), c64(m, -1, 0))));
  } else {
    // sign bit of size FSZ: bit (8*FSZ - 1)
    const sh = m.i64.sub(m.i64.shl(sz, c64(m, 3, 0)), c64(m, 1, 0));
    fromRes = m.i32.wrap(m.i64.and(m.i64.shr_u(e.get(S_FR), sh), c64(m, 1, 0)));
  }
  return m.select(isRaw, raw, fromRes);
}

const EFLAGS_FN = 'x86_eflags';

/**
 * Add `x86_eflags(fk, fsz, fr, fa, fb, fc, fraw) -> i32` to the module once: the materialised
 * CF PF AF ZF SF OF of a lazy record, exactly as alu.ts eflags() computes them.
 */
function ensureEflagsFunction(m: binaryen.Module): void {
  if (m.getFunction(EFLAGS_FN) !== 0) return;
  const I64 = binaryen.i64;
  const I32 = binaryen.i32;
  const [K, SZ, R, A, B, C, RAW, SB, F] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const g = (i: number): Expr => m.local.get(i, I64);
  const f = (): Expr => m.local.get(F, I32);
  const k = (): Expr => m.i32.wrap(g(K));
  const is = (kind: number): Expr => m.i32.eq(k(), m.i32.const(kind));
  const bitIf = (cond: Expr, bit: number): Expr => m.select(cond, m.i32.const(bit), m.i32.const(0));
  const cin = (): Expr => m.i64.ne(m.i64.and(g(C), c64(m, 1, 0)), c64(m, 0, 0));
  const ofAdd = (): Expr => bitIf(nz(m, m.i64.and(m.i64.and(m.i64.xor(g(A), g(R)), m.i64.xor(g(B), g(R))), g(SB))), OF);
  const ofSub = (): Expr => bitIf(nz(m, m.i64.and(m.i64.and(m.i64.xor(g(A), g(B)), m.i64.xor(g(A), g(R))), g(SB))), OF);
  const set = (v: Expr): Expr => m.local.set(F, v);
  const ult = (x: Expr, y: Expr): Expr => bitIf(m.i64.lt_u(x, y), CF);
  const body = m.block(null, [
    m.if(is(F_RAW), m.return(m.i32.wrap(g(RAW)))),
    // sign bit of the operand size: 1 << (8 * size - 1)
    m.local.set(SB, m.i64.shl(c64(m, 1, 0), m.i64.sub(m.i64.shl(g(SZ), c64(m, 3, 0)), c64(m, 1, 0)))),
    set(m.i32.const(0)),
    m.if(is(F_ADD), set(m.i32.or(ult(g(R), g(A)), ofAdd()))),
    m.if(is(F_ADC), set(m.i32.or(m.select(cin(), bitIf(m.i64.le_u(g(R), g(A)), CF), ult(g(R), g(A))), ofAdd()))),
    m.if(is(F_SUB), set(m.i32.or(ult(g(A), g(B)), ofSub()))),
    m.if(is(F_SBB), set(m.i32.or(m.select(cin(), bitIf(m.i64.le_u(g(A), g(B)), CF), ult(g(A), g(B))), ofSub()))),
    m.if(is(F_INC), set(m.i32.or(m.i32.wrap(m.i64.and(g(C), c64(m, CF, 0))), ofAdd()))),
    m.if(is(F_DEC), set(m.i32.or(m.i32.wrap(m.i64.and(g(C), c64(m, CF, 0))), ofSub()))),
    m.if(is(F_SHIFT), set(m.i32.wrap(m.i64.and(g(C), c64(m, CF | OF, 0))))),
    m.if(
      m.i32.and(m.i32.ne(k(), m.i32.const(F_LOGIC)), m.i32.ne(k(), m.i32.const(F_SHIFT))),
      set(m.i32.or(f(), m.i32.and(m.i32.wrap(m.i64.xor(m.i64.xor(g(A), g(B)), g(R))), m.i32.const(AF)))),
    ),
    set(m.i32.or(f(), resultFlags32(m, g(R), m.i64.eqz(m.select(m.i64.eq(g(SZ), c64(m, 8, 0)), g(R), m.i64.and(g(R), c64(m, -1, 0)))), nz(m, m.i64.and(g(R), g(SB)))))),
    f(),
  ], I32);
  m.addFunction(EFLAGS_FN, binaryen.createType([I64, I64, I64, I64, I64, I64, I64]), I32, [I64, I32], body);
}

/** PF | ZF | SF (i32) from a result (low byte for PF) and precomputed i32 zero / sign conditions. */
function resultFlags32(m: binaryen.Module, r: Expr, zero: Expr, sign: Expr): Expr {
  return m.i32.or(m.i32.or(m.select(parityFlag(m, r), m.i32.const(PF), m.i32.const(0)), m.select(zero, m.i32.const(ZF), m.i32.const(0))), m.select(sign, m.i32.const(SF), m.i32.const(0)));
}

/** The materialised EFLAGS (i32) of the current slots, whatever their kind. */
export function eflagsNow(e: BlockEmitter): Expr {
  ensureEflagsFunction(e.m);
  return e.m.call(EFLAGS_FN, [e.get(S_FK), e.get(S_FSZ), e.get(S_FR), e.get(S_FA), e.get(S_FB), e.get(S_FC), e.get(S_FRAW)], binaryen.i32);
}

/** Condition cc (cc >> 1 in 0-7, Intel order, not negated) on materialised flags f (i32). */
function condOfBits(m: binaryen.Module, f: Expr, base: number, fresh: () => Expr): Expr {
  const bit = (x: Expr, b: number): Expr => m.i32.ne(m.i32.and(x, m.i32.const(b)), m.i32.const(0));
  // SF != OF: (f >> 7 ^ f >> 11) & 1
  const sfOf = (x: Expr): Expr => m.i32.and(m.i32.xor(m.i32.shr_u(x, m.i32.const(7)), m.i32.shr_u(x, m.i32.const(11))), m.i32.const(1));
  switch (base) {
    case 0: return bit(f, OF);
    case 1: return bit(f, CF);
    case 2: return bit(f, ZF);
    case 3: return bit(f, CF | ZF);
    case 4: return bit(f, SF);
    case 5: return bit(f, PF);
    case 6: return sfOf(f);
    default: return m.i32.or(bit(f, ZF), sfOf(fresh()));
  }
}

/** i32 condition (Intel cc 0-15) on the current flags. */
export function condition(e: BlockEmitter, known: KnownFlags | null, cc: number): Expr {
  const m = e.m;
  const neg = (x: Expr): Expr => (cc & 1 ? m.i32.eqz(x) : x);
  const generic = (): Expr => {
    // Materialise once into a local when the condition reads two bit groups.
    if (cc >> 1 !== 7) return neg(condOfBits(m, eflagsNow(e), cc >> 1, () => eflagsNow(e)));
    const l = e.local(binaryen.i32);
    const get = (): Expr => m.local.get(l, binaryen.i32);
    return neg(m.block(null, [m.local.set(l, eflagsNow(e)), condOfBits(m, get(), 7, get)], binaryen.i32));
  };
  if (known === null) {
    if (cc >> 1 === 2) return neg(genericZfSf(e, ZF));
    if (cc >> 1 === 4) return neg(genericZfSf(e, SF));
    return generic();
  }
  if (known.kind === F_SUB) {
    const a = (): Expr => e.get(S_FA);
    const b = (): Expr => e.get(S_FB);
    const sa = (): Expr => sext(m, e.get(S_FA), known.size);
    const sb = (): Expr => sext(m, e.get(S_FB), known.size);
    switch (cc >> 1) {
      case 1:
        return neg(m.i64.lt_u(a(), b()));
      case 2:
        return neg(m.i64.eq(a(), b()));
      case 3:
        return neg(m.i64.le_u(a(), b()));
      case 6:
        return neg(m.i64.lt_s(sa(), sb()));
      case 7:
        return neg(m.i64.le_s(sa(), sb()));
      default:
        break;
    }
  }
  const f = (flag: number): Expr | null => flagOf(e, known, flag);
  let t: Expr | null;
  switch (cc >> 1) {
    case 0:
      t = f(OF);
      break;
    case 1:
      t = f(CF);
      break;
    case 2:
      t = f(ZF);
      break;
    case 3: {
      const c = f(CF);
      const z = f(ZF);
      t = c && z ? m.i32.or(c, z) : null;
      break;
    }
    case 4:
      t = f(SF);
      break;
    case 5:
      t = f(PF);
      break;
    case 6: {
      const s = f(SF);
      const o = f(OF);
      t = s && o ? m.i32.ne(s, o) : null;
      break;
    }
    default: {
      const z = f(ZF);
      const s = f(SF);
      const o = f(OF);
      t = z && s && o ? m.i32.or(z, m.i32.ne(s, o)) : null;
      break;
    }
  }
  return t === null ? generic() : neg(t);
}

/** Materialised CF (i32 0/1) of the current flags. */
export function carryFlag(e: BlockEmitter, known: KnownFlags | null): Expr {
  const c = known === null ? null : flagOf(e, known, CF);
  return c ?? e.m.i32.and(eflagsNow(e), e.m.i32.const(CF));
}

/** F_RAW EFLAGS (i32) of a size-byte result: PF ZF SF from r plus cf (i32 0/1) and OF when of (i32 0/1). */
export function rawFlags(e: BlockEmitter, size: number, r: () => Expr, cf: Expr, of: Expr): Expr {
  const m = e.m;
  return m.i32.or(resultFlags(e, size, r), m.i32.or(cf, m.select(of, m.i32.const(OF), m.i32.const(0))));
}

/** Statements recording the i32 EFLAGS `flags` as the lazy record (kind F_RAW, alu.ts setRaw). */
export function setRaw(e: BlockEmitter, flags: Expr): Expr[] {
  const m = e.m;
  return [e.set(S_FK, c64(m, F_RAW, 0)), e.set(S_FRAW, m.i64.extend_u(flags))];
}

/** PF | ZF | SF (i32) of a size-byte result held in an i64 getter (masked to the size). */
export function resultFlags(e: BlockEmitter, size: number, r: () => Expr): Expr {
  const m = e.m;
  return resultFlags32(m, r(), m.i64.eqz(r()), nz(m, m.i64.and(r(), signBit(m, size))));
}
