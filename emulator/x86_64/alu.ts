// x86 arithmetic on 32-bit pairs, with lazy flags (Bochs / v86 / QEMU cc_op style).
//
// Lazy flag state `fl` (Int32Array(10)): [0] kind (F_*), [1] operand size in bytes, [2..3] result
// lo/hi, [4..5] first operand, [6..7] second operand, [8] carry-in (adc/sbb), the preserved CF
// (inc/dec) or CF|OF of a shift (F_SHIFT), [9] the materialised EFLAGS when kind is F_RAW. Values of 1/2-byte operations are
// kept zero-extended, of 4-byte ones as int32, of 8-byte ones as (lo, hi) int32 pairs.
// `eflags(fl)` materialises CF PF AF ZF SF OF only when an instruction consumes them (jcc, setcc,
// cmovcc, adc/sbb, inc/dec, rotates). Flags the SDM leaves undefined get a fixed value here (AF after
// logic and shifts: 0; SF/ZF/PF after mul: from the low result) and are masked by the oracle tests.
// Results with a high half come back in `out.hi` (`out.xlo/xhi`: the upper half of a widening multiply).

import { divOut, udiv128 } from '../div64.js';

export const CF = 0x1;
export const PF = 0x4;
export const AF = 0x10;
export const ZF = 0x40;
export const SF = 0x80;
export const OF = 0x800;

export const F_ADD = 1;
export const F_ADC = 2;
export const F_SUB = 3;
export const F_SBB = 4;
export const F_LOGIC = 5;
export const F_INC = 6;
export const F_DEC = 7;
export const F_RAW = 8;
/** Shift with precomputed CF/OF in [8]; SF/ZF/PF from the result (AF reads as 0). */
export const F_SHIFT = 9;

export const out = { hi: 0, xlo: 0, xhi: 0 };

const TWO32 = 4294967296;

/** Truncate a 32-bit-or-less value to `size` bytes (size 4: int32; 1/2: zero-extended). */
export function trunc(v: number, size: number): number {
  return size === 4 ? v | 0 : size === 2 ? v & 0xffff : v & 0xff;
}

function signOf(lo: number, hi: number, size: number): number {
  return size === 8 ? hi >>> 31 : size === 4 ? lo >>> 31 : size === 2 ? (lo >>> 15) & 1 : (lo >>> 7) & 1;
}

function ult(aLo: number, aHi: number, bLo: number, bHi: number): boolean {
  return aHi !== bHi ? aHi >>> 0 < bHi >>> 0 : aLo >>> 0 < bLo >>> 0;
}

function parity(b: number): number {
  b &= 0xff;
  b ^= b >> 4;
  b ^= b >> 2;
  b ^= b >> 1;
  return b & 1 ? 0 : PF;
}

export function setFlags(fl: Int32Array, kind: number, size: number, rLo: number, rHi: number, aLo: number, aHi: number, bLo: number, bHi: number, cin: number): void {
  fl[0] = kind;
  fl[1] = size;
  fl[2] = rLo;
  fl[3] = rHi;
  fl[4] = aLo;
  fl[5] = aHi;
  fl[6] = bLo;
  fl[7] = bHi;
  fl[8] = cin;
}

export function setRaw(fl: Int32Array, f: number): void {
  fl[0] = F_RAW;
  fl[9] = f;
}

/** Materialised EFLAGS (CF PF AF ZF SF OF). */
export function eflags(fl: Int32Array): number {
  const kind = fl[0]!;
  if (kind === F_RAW) return fl[9]!;
  const size = fl[1]!;
  const rLo = fl[2]!;
  const rHi = fl[3]!;
  const aLo = fl[4]!;
  const aHi = fl[5]!;
  const bLo = fl[6]!;
  const bHi = fl[7]!;
  const cin = fl[8]!;
  let f = 0;
  switch (kind) {
    case F_ADD:
      if (ult(rLo, rHi, aLo, aHi)) f |= CF;
      if (signOf((aLo ^ rLo) & (bLo ^ rLo), (aHi ^ rHi) & (bHi ^ rHi), size)) f |= OF;
      break;
    case F_ADC:
      if (cin ? !ult(aLo, aHi, rLo, rHi) : ult(rLo, rHi, aLo, aHi)) f |= CF;
      if (signOf((aLo ^ rLo) & (bLo ^ rLo), (aHi ^ rHi) & (bHi ^ rHi), size)) f |= OF;
      break;
    case F_SUB:
      if (ult(aLo, aHi, bLo, bHi)) f |= CF;
      if (signOf((aLo ^ bLo) & (aLo ^ rLo), (aHi ^ bHi) & (aHi ^ rHi), size)) f |= OF;
      break;
    case F_SBB:
      if (cin ? !ult(bLo, bHi, aLo, aHi) : ult(aLo, aHi, bLo, bHi)) f |= CF;
      if (signOf((aLo ^ bLo) & (aLo ^ rLo), (aHi ^ bHi) & (aHi ^ rHi), size)) f |= OF;
      break;
    case F_INC:
      f |= cin & CF;
      if (signOf((aLo ^ rLo) & (bLo ^ rLo), (aHi ^ rHi) & (bHi ^ rHi), size)) f |= OF;
      break;
    case F_DEC:
      f |= cin & CF;
      if (signOf((aLo ^ bLo) & (aLo ^ rLo), (aHi ^ bHi) & (aHi ^ rHi), size)) f |= OF;
      break;
    case F_SHIFT:
      f |= cin & (CF | OF);
      break;
    default:
      break;
  }
  if (kind !== F_LOGIC && kind !== F_SHIFT) f |= (aLo ^ bLo ^ rLo) & AF;
  if (rLo === 0 && (size !== 8 || rHi === 0)) f |= ZF;
  if (signOf(rLo, rHi, size)) f |= SF;
  f |= parity(rLo);
  return f;
}

/** Condition code cc (0-15, Intel order) on the current flags. */
export function cond(fl: Int32Array, cc: number): boolean {
  const kind = fl[0]!;
  if (kind !== F_RAW && (cc & ~1) === 4) {
    const z = fl[2] === 0 && (fl[1] !== 8 || fl[3] === 0);
    return cc === 4 ? z : !z;
  }
  const f = eflags(fl);
  let t: boolean;
  switch (cc >> 1) {
    case 0: t = (f & OF) !== 0; break;
    case 1: t = (f & CF) !== 0; break;
    case 2: t = (f & ZF) !== 0; break;
    case 3: t = (f & (CF | ZF)) !== 0; break;
    case 4: t = (f & SF) !== 0; break;
    case 5: t = (f & PF) !== 0; break;
    case 6: t = ((f & SF) !== 0) !== ((f & OF) !== 0); break;
    default: t = (f & ZF) !== 0 || ((f & SF) !== 0) !== ((f & OF) !== 0); break;
  }
  return cc & 1 ? !t : t;
}

/** kind = ALU_* (0 add .. 7 cmp); returns the result lo (hi in out.hi) and sets the flags. */
export function alu(fl: Int32Array, kind: number, size: number, aLo: number, aHi: number, bLo: number, bHi: number): number {
  if (size !== 8) {
    // Operands narrower than 64 bits have no high half (a sign-extended imm32's hi must not reach CF).
    aHi = 0;
    bHi = 0;
  }
  let lo: number;
  let hi = 0;
  let cin = 0;
  let fk: number;
  switch (kind) {
    case 0: // add
    case 2: // adc
      cin = kind === 2 ? eflags(fl) & CF : 0;
      fk = kind === 2 ? F_ADC : F_ADD;
      if (size === 8) {
        const s = (aLo >>> 0) + (bLo >>> 0) + cin;
        lo = s | 0;
        hi = (aHi + bHi + (s >= TWO32 ? 1 : 0)) | 0;
      } else lo = trunc(aLo + bLo + cin, size);
      break;
    case 3: // sbb
    case 5: // sub
    case 7: // cmp
      cin = kind === 3 ? eflags(fl) & CF : 0;
      fk = kind === 3 ? F_SBB : F_SUB;
      if (size === 8) {
        const d = (aLo >>> 0) - (bLo >>> 0) - cin;
        lo = d | 0;
        hi = (aHi - bHi - (d < 0 ? 1 : 0)) | 0;
      } else lo = trunc(aLo - bLo - cin, size);
      break;
    case 1:
      lo = aLo | bLo;
      hi = aHi | bHi;
      fk = F_LOGIC;
      break;
    case 4:
      lo = aLo & bLo;
      hi = aHi & bHi;
      fk = F_LOGIC;
      break;
    default:
      lo = aLo ^ bLo;
      hi = aHi ^ bHi;
      fk = F_LOGIC;
      break;
  }
  if (size !== 8) hi = 0;
  setFlags(fl, fk, size, lo, hi, aLo, aHi, bLo, bHi, cin);
  out.hi = hi;
  return lo;
}

/** inc/dec: like add/sub 1 but CF preserved. */
export function incDec(fl: Int32Array, dec: boolean, size: number, aLo: number, aHi: number): number {
  const oldCf = eflags(fl) & CF;
  let lo: number;
  let hi = 0;
  if (size === 8) {
    const s = (aLo >>> 0) + (dec ? -1 : 1);
    lo = s | 0;
    hi = (aHi + (s >= TWO32 ? 1 : s < 0 ? -1 : 0)) | 0;
  } else lo = trunc(aLo + (dec ? -1 : 1), size);
  setFlags(fl, dec ? F_DEC : F_INC, size, lo, hi, aLo, aHi, 1, 0, oldCf);
  out.hi = hi;
  return lo;
}

// ---- 64-bit pair shifts (count 1..63); results lo in return, hi in out.hi -----------------

export function shl64(lo: number, hi: number, c: number): number {
  if (c < 32) {
    out.hi = (hi << c) | (lo >>> (32 - c));
    return lo << c;
  }
  out.hi = lo << (c - 32);
  return 0;
}

export function shr64(lo: number, hi: number, c: number): number {
  if (c < 32) {
    out.hi = hi >>> c;
    return (lo >>> c) | (hi << (32 - c));
  }
  out.hi = 0;
  return hi >>> (c - 32);
}

export function sar64(lo: number, hi: number, c: number): number {
  if (c < 32) {
    out.hi = hi >> c;
    return (lo >>> c) | (hi << (32 - c));
  }
  out.hi = hi >> 31;
  return hi >> (c - 32);
}

/** Bit `n` (0-63) of a pair. */
function bit64(lo: number, hi: number, n: number): number {
  return n < 32 ? (lo >>> n) & 1 : (hi >>> (n - 32)) & 1;
}

function resultFlags(lo: number, hi: number, size: number): number {
  let f = parity(lo);
  if (lo === 0 && (size !== 8 || hi === 0)) f |= ZF;
  if (signOf(lo, hi, size)) f |= SF;
  return f;
}

/**
 * Shift/rotate kind (0 rol, 1 ror, 4 shl, 5 shr, 7 sar) of a size-byte value by count (already
 * masked to 5/6 bits, non-zero). Sets flags eagerly (F_RAW); returns lo, hi in out.hi.
 */
export function shift(fl: Int32Array, kind: number, size: number, lo: number, hi: number, count: number): number {
  const w = size * 8;
  if (kind === 2 || kind === 3) return rotateThroughCarry(fl, kind === 2, size, lo, hi, count);
  let rLo: number;
  let rHi = 0;
  let cf: number;
  let of = 0;
  if (size === 8) {
    if (kind === 4) {
      cf = bit64(lo, hi, 64 - count);
      rLo = shl64(lo, hi, count);
      rHi = out.hi;
      of = (rHi >>> 31) ^ cf;
    } else if (kind === 5) {
      cf = bit64(lo, hi, count - 1);
      rLo = shr64(lo, hi, count);
      rHi = out.hi;
      of = hi >>> 31;
    } else if (kind === 7) {
      cf = bit64(lo, hi, count - 1);
      rLo = sar64(lo, hi, count);
      rHi = out.hi;
    } else {
      const left = kind === 0 ? count : 64 - count;
      const aLo = shl64(lo, hi, left);
      const aHi = out.hi;
      const bLo = shr64(lo, hi, 64 - left);
      rLo = aLo | bLo;
      rHi = aHi | out.hi;
      if (kind === 0) {
        cf = rLo & 1;
        of = (rHi >>> 31) ^ cf;
      } else {
        cf = rHi >>> 31;
        of = cf ^ ((rHi >>> 30) & 1);
      }
    }
  } else {
    const v = size === 4 ? lo >>> 0 : lo;
    if (kind === 4) {
      cf = count <= w ? Math.floor(v / 2 ** (w - count)) & 1 : 0;
      rLo = count < w ? trunc(count < 32 ? v << count : 0, size) : 0;
      of = signOf(rLo, 0, size) ^ cf;
    } else if (kind === 5) {
      cf = count <= w ? (v >>> (count - 1)) & 1 : 0;
      rLo = count < w ? trunc(v >>> count, size) : 0;
      of = signOf(lo, 0, size);
    } else if (kind === 7) {
      const sv = size === 4 ? lo | 0 : size === 2 ? (lo << 16) >> 16 : (lo << 24) >> 24;
      cf = (sv >> Math.min(count - 1, 31)) & 1;
      rLo = trunc(sv >> Math.min(count, 31), size);
    } else {
      const c = count % w;
      const left = kind === 0 ? c : (w - c) % w;
      rLo = left === 0 ? v : trunc(size === 4 ? (v << left) | (v >>> (w - left)) : (v << left) | (v >>> (w - left)), size);
      if (kind === 0) {
        cf = rLo & 1;
        of = signOf(rLo, 0, size) ^ cf;
      } else {
        cf = signOf(rLo, 0, size);
        of = cf ^ ((rLo >>> (w - 2)) & 1);
      }
    }
  }
  let f: number;
  if (kind <= 1) f = (eflags(fl) & ~(CF | OF)) | cf | (of ? OF : 0);
  else f = resultFlags(rLo, rHi, size) | cf | (of ? OF : 0);
  setRaw(fl, f);
  out.hi = rHi;
  return rLo;
}

/**
 * rcl/rcr: a (w+1)-bit rotation of CF:value (count already masked to 5/6 bits; the 8/16-bit forms
 * rotate modulo 9/17 as the SDM says), one bit per step as the SDM's pseudocode loops (rare in
 * generated code; at most 64 steps). Only CF and OF (count 1) change.
 */
function rotateThroughCarry(fl: Int32Array, left: boolean, size: number, lo: number, hi: number, count: number): number {
  const w = size * 8;
  const old = eflags(fl);
  const c = size <= 2 ? count % (w + 1) : count;
  let cf = old & CF;
  let rLo = size === 8 ? lo | 0 : w === 32 ? lo | 0 : lo & ((1 << w) - 1);
  let rHi = size === 8 ? hi | 0 : 0;
  const top = w === 64 ? 31 : w - 1;
  for (let k = 0; k < c; k++) {
    if (left) {
      const out1 = ((w === 64 ? rHi : rLo) >>> top) & 1;
      if (w === 64) rHi = (rHi << 1) | (rLo >>> 31);
      rLo = w === 32 || w === 64 ? (rLo << 1) | cf : ((rLo << 1) | cf) & ((1 << w) - 1);
      cf = out1;
    } else {
      const out1 = rLo & 1;
      if (w === 64) {
        rLo = (rLo >>> 1) | (rHi << 31);
        rHi = (rHi >>> 1) | (cf << 31);
      } else rLo = (rLo >>> 1) | (cf << top);
      cf = out1;
    }
  }
  rLo |= 0;
  rHi |= 0;
  const msb = ((w === 64 ? rHi : rLo) >>> top) & 1;
  const next = w === 64 ? (rHi >>> 30) & 1 : (rLo >>> (w - 2)) & 1;
  const of = left ? msb ^ cf : msb ^ next;
  setRaw(fl, (old & ~(CF | OF)) | cf | (of ? OF : 0));
  out.hi = rHi;
  return size === 8 ? rLo : trunc(rLo, size);
}

/** shld (right = false) / shrd: dst shifted by count (1..w-1) filling from src. */
export function shiftDouble(fl: Int32Array, right: boolean, size: number, dLo: number, dHi: number, sLo: number, sHi: number, count: number): number {
  let rLo: number;
  let rHi = 0;
  let cf: number;
  if (size === 8) {
    if (!right) {
      cf = bit64(dLo, dHi, 64 - count);
      const aLo = shl64(dLo, dHi, count);
      const aHi = out.hi;
      const bLo = count === 0 ? 0 : shr64(sLo, sHi, 64 - count);
      rLo = aLo | bLo;
      rHi = aHi | out.hi;
    } else {
      cf = bit64(dLo, dHi, count - 1);
      const aLo = shr64(dLo, dHi, count);
      const aHi = out.hi;
      const bLo = shl64(sLo, sHi, 64 - count);
      rLo = aLo | bLo;
      rHi = aHi | out.hi;
    }
  } else {
    const w = size * 8;
    const d = size === 4 ? dLo >>> 0 : dLo;
    const s = size === 4 ? sLo >>> 0 : sLo;
    if (!right) {
      cf = (d >>> (w - count)) & 1;
      rLo = trunc((d << count) | (s >>> (w - count)), size);
    } else {
      cf = (d >>> (count - 1)) & 1;
      rLo = trunc((d >>> count) | (s << (w - count)), size);
    }
  }
  const of = signOf(rLo, rHi, size) ^ signOf(dLo, dHi, size);
  setRaw(fl, resultFlags(rLo, rHi, size) | cf | (of ? OF : 0));
  out.hi = rHi;
  return rLo;
}

// ---- multiply / divide -------------------------------------------------------------------

/** Unsigned 32x32 -> 64: returns lo, hi in out.hi. */
export function mul32(a: number, b: number): number {
  a >>>= 0;
  b >>>= 0;
  const aL = a & 0xffff;
  const aH = a >>> 16;
  const bL = b & 0xffff;
  const bH = b >>> 16;
  const mid = aH * bL + aL * bH;
  const low = aL * bL + (mid % 65536) * 65536;
  out.hi = (aH * bH + Math.floor(mid / 65536) + Math.floor(low / TWO32)) >>> 0 | 0;
  return low >>> 0 | 0;
}

/**
 * 64x64 -> 128 multiply (signed when `signed`): returns bits 0-31, out.hi bits 32-63, out.xlo/xhi
 * bits 64-127.
 */
export function mul64(signed: boolean, aLo: number, aHi: number, bLo: number, bHi: number): number {
  const p0l = mul32(aLo, bLo);
  const p0h = out.hi >>> 0;
  const p1l = mul32(aLo, bHi) >>> 0;
  const p1h = out.hi >>> 0;
  const p2l = mul32(aHi, bLo) >>> 0;
  const p2h = out.hi >>> 0;
  const p3l = mul32(aHi, bHi) >>> 0;
  const p3h = out.hi >>> 0;
  const r1 = p0h + p1l + p2l;
  const c1 = Math.floor(r1 / TWO32);
  const r2 = p1h + p2h + p3l + c1;
  const c2 = Math.floor(r2 / TWO32);
  let x2 = r2 >>> 0;
  let x3 = (p3h + c2) >>> 0;
  if (signed) {
    if (aHi < 0) {
      const d = x2 - (bLo >>> 0);
      x3 = (x3 - (bHi >>> 0) - (d < 0 ? 1 : 0)) >>> 0;
      x2 = d >>> 0;
    }
    if (bHi < 0) {
      const d = x2 - (aLo >>> 0);
      x3 = (x3 - (aHi >>> 0) - (d < 0 ? 1 : 0)) >>> 0;
      x2 = d >>> 0;
    }
  }
  out.hi = r1 >>> 0 | 0;
  out.xlo = x2 | 0;
  out.xhi = x3 | 0;
  return p0l;
}

/** Flags after mul/imul: CF = OF = `overflow`; SF/ZF/PF (undefined by the SDM) from the low result. */
export function mulFlags(fl: Int32Array, overflow: boolean, lo: number, hi: number, size: number): void {
  setRaw(fl, resultFlags(lo, hi, size) | (overflow ? CF | OF : 0));
}

/** Number of significant bits of the 128-bit value w3:w2:w1:w0. */
function bitLength(w0: number, w1: number, w2: number, w3: number): number {
  if (w3 !== 0) return 128 - Math.clz32(w3);
  if (w2 !== 0) return 96 - Math.clz32(w2);
  if (w1 !== 0) return 64 - Math.clz32(w1);
  return 32 - Math.clz32(w0);
}

function isPowerOfTwo(w0: number, w1: number, w2: number, w3: number): boolean {
  let ones = 0;
  for (const w of [w0, w1, w2, w3]) {
    const x = w >>> 0;
    if (x !== 0) ones += (x & (x - 1)) === 0 ? 1 : 2;
  }
  return ones === 1;
}

/** Quotient and remainder of the last successful `divide` (int32 words, truncated by the caller). */
export const divQR = { qLo: 0, qHi: 0, rLo: 0, rHi: 0 };

/**
 * div/idiv r/m of `size` bytes: the dividend is AX (size 1), DX:AX, EDX:EAX or RDX:RAX, given as
 * the raw register pairs of rax and rdx; the divisor is vLo:vHi. Returns false on #DE (zero
 * divisor, or a quotient that does not fit the destination: unsigned >= 2^bits, signed outside
 * [-2^(bits-1), 2^(bits-1)-1]), else true with quotient and remainder (the remainder has the
 * dividend's sign, SDM "IDIV") in divQR. Exact on 32-bit words (emulator/div64.ts), no BigInt.
 */
export function divide(signed: boolean, size: number, raxLo: number, raxHi: number, rdxLo: number, rdxHi: number, vLo: number, vHi: number): boolean {
  // The dividend as a 128-bit two's complement value w3:w2:w1:w0, the divisor as d1:d0.
  let w0: number, w1: number, w2: number, w3: number, d0: number, d1: number;
  if (size === 8) {
    w0 = raxLo; w1 = raxHi; w2 = rdxLo; w3 = rdxHi;
    d0 = vLo; d1 = vHi;
  } else {
    if (size === 4) {
      w0 = raxLo; w1 = rdxLo;
    } else if (size === 2) {
      w0 = (raxLo & 0xffff) | ((rdxLo & 0xffff) << 16);
      w1 = signed ? w0 >> 31 : 0;
    } else {
      w0 = signed ? ((raxLo & 0xffff) << 16) >> 16 : raxLo & 0xffff;
      w1 = w0 >> 31;
    }
    w2 = w3 = signed ? w1 >> 31 : 0;
    d0 = signed ? (size === 4 ? vLo : size === 2 ? (vLo << 16) >> 16 : (vLo << 24) >> 24) : trunc(vLo, size);
    d1 = signed ? d0 >> 31 : 0;
  }
  if ((d0 | d1) === 0) return false;
  const nNeg = signed && w3 < 0;
  const dNeg = signed && d1 < 0;
  if (nNeg) {
    // Two's complement negation of the four words.
    w0 = ~w0; w1 = ~w1; w2 = ~w2; w3 = ~w3;
    w0 = (w0 + 1) | 0;
    if (w0 === 0) { w1 = (w1 + 1) | 0; if (w1 === 0) { w2 = (w2 + 1) | 0; if (w2 === 0) w3 = (w3 + 1) | 0; } }
  }
  if (dNeg) {
    d0 = -d0 | 0;
    d1 = (~d1 + (d0 === 0 ? 1 : 0)) | 0;
  }
  udiv128(w0, w1, w2, w3, d0, d1);
  const { q0, q1, q2, q3 } = divOut;
  const bits = size * 8;
  const negQ = nNeg !== dNeg;
  const len = bitLength(q0, q1, q2, q3);
  // Unsigned: q < 2^bits. Signed: q < 2^(bits-1), or q == 2^(bits-1) when the quotient is negative.
  if (signed ? len > bits - 1 && !(negQ && len === bits && isPowerOfTwo(q0, q1, q2, q3)) : len > bits) return false;
  let qLo = q0, qHi = q1, rLo = divOut.r0, rHi = divOut.r1;
  if (negQ) {
    qLo = -q0 | 0;
    qHi = (~q1 + (qLo === 0 ? 1 : 0)) | 0;
  }
  if (nNeg) {
    const r0 = rLo;
    rLo = -r0 | 0;
    rHi = (~rHi + (r0 === 0 ? 1 : 0)) | 0;
  }
  divQR.qLo = qLo;
  divQR.qHi = qHi;
  divQR.rLo = rLo;
  divQR.rHi = rHi;
  return true;
}
