// 64-bit arithmetic on (lo, hi) int32 pairs for the arm64 interpreter: shifts, rotates, extends,
// multiplies, divides. No BigInt: 64-bit division beyond 2^53 uses emulator/div64.ts (32-bit words).
//
// Results are returned through the module-level scratch pair `res` (res[0] = lo, res[1] = hi) so
// the hot path allocates nothing. Every function fully overwrites `res` before returning.
// Semantics follow the Arm ARM pseudocode (ShiftReg, ExtendReg, ROR, UDIV/SDIV rounding toward zero
// with divide-by-zero giving 0).

import { divOut, udiv128 } from '../div64.js';

export const res = new Int32Array(2);

/** type: 0 LSL, 1 LSR, 2 ASR, 3 ROR; 0 <= amt < 64. */
export function shift64(lo: number, hi: number, type: number, amt: number): void {
  if (amt === 0) {
    res[0] = lo;
    res[1] = hi;
    return;
  }
  if (type === 0) {
    if (amt < 32) {
      res[1] = (hi << amt) | (lo >>> (32 - amt));
      res[0] = lo << amt;
    } else {
      res[1] = lo << (amt - 32);
      res[0] = 0;
    }
  } else if (type === 1) {
    if (amt < 32) {
      res[0] = (lo >>> amt) | (hi << (32 - amt));
      res[1] = hi >>> amt;
    } else {
      res[0] = hi >>> (amt - 32);
      res[1] = 0;
    }
  } else if (type === 2) {
    if (amt < 32) {
      res[0] = (lo >>> amt) | (hi << (32 - amt));
      res[1] = hi >> amt;
    } else {
      res[0] = hi >> (amt - 32);
      res[1] = hi >> 31;
    }
  } else {
    if (amt >= 32) {
      const t = lo;
      lo = hi;
      hi = t;
      amt -= 32;
      if (amt === 0) {
        res[0] = lo;
        res[1] = hi;
        return;
      }
    }
    res[0] = (lo >>> amt) | (hi << (32 - amt));
    res[1] = (hi >>> amt) | (lo << (32 - amt));
  }
}

/** 32-bit shift of lo; 0 <= amt < 32. Returns the int32 result. */
export function shift32(v: number, type: number, amt: number): number {
  if (amt === 0) return v | 0;
  switch (type) {
    case 0:
      return v << amt;
    case 1:
      return v >>> amt | 0;
    case 2:
      return v >> amt;
    default:
      return (v >>> amt) | (v << (32 - amt));
  }
}

/** ExtendReg: option 0-3 UXTB/H/W/X, 4-7 SXTB/H/W/X; then << sh (0..4). */
export function extend64(lo: number, hi: number, option: number, sh: number): void {
  switch (option) {
    case 0: lo &= 0xff; hi = 0; break;
    case 1: lo &= 0xffff; hi = 0; break;
    case 2: hi = 0; break;
    case 3: break;
    case 4: lo = (lo << 24) >> 24; hi = lo >> 31; break;
    case 5: lo = (lo << 16) >> 16; hi = lo >> 31; break;
    case 6: hi = lo >> 31; break;
    default: break;
  }
  shift64(lo, hi, 0, sh);
}

/** Unsigned 32 x 32 -> 64 into res. */
export function umul32(a: number, b: number): void {
  const a0 = a & 0xffff, a1 = a >>> 16, b0 = b & 0xffff, b1 = b >>> 16;
  const p00 = a0 * b0;
  const mid = a1 * b0 + a0 * b1; // < 2^33
  const lo = p00 + (mid % 65536) * 65536;
  const loU = lo % 4294967296;
  const carry = (lo - loU) / 4294967296;
  res[0] = loU | 0;
  res[1] = (a1 * b1 + Math.floor(mid / 65536) + carry) | 0;
}

/** Low 64 bits of a 64 x 64 product into res. */
export function mul64(alo: number, ahi: number, blo: number, bhi: number): void {
  umul32(alo, blo);
  const cross = (Math.imul(alo, bhi) + Math.imul(ahi, blo)) | 0;
  res[1] = (res[1] + cross) | 0;
}

const limbA = new Float64Array(4);
const limbB = new Float64Array(4);
const prod = new Float64Array(8);

/** High 64 bits of the unsigned 128-bit product into res. */
export function umulh64(alo: number, ahi: number, blo: number, bhi: number): void {
  limbA[0] = alo & 0xffff; limbA[1] = alo >>> 16; limbA[2] = ahi & 0xffff; limbA[3] = ahi >>> 16;
  limbB[0] = blo & 0xffff; limbB[1] = blo >>> 16; limbB[2] = bhi & 0xffff; limbB[3] = bhi >>> 16;
  prod.fill(0);
  for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) prod[i + j] = (prod[i + j] as number) + (limbA[i] as number) * (limbB[j] as number);
  let carry = 0;
  for (let k = 0; k < 8; k++) {
    const v = (prod[k] as number) + carry;
    const d = v % 65536;
    prod[k] = d;
    carry = (v - d) / 65536;
  }
  res[0] = ((prod[4] as number) + (prod[5] as number) * 65536) | 0;
  res[1] = ((prod[6] as number) + (prod[7] as number) * 65536) | 0;
}

/** High 64 bits of the signed 128-bit product into res. */
export function smulh64(alo: number, ahi: number, blo: number, bhi: number): void {
  umulh64(alo, ahi, blo, bhi);
  let lo = res[0] as number, hi = res[1] as number;
  if (ahi < 0) { // subtract b
    const nlo = (lo - blo) | 0;
    hi = (hi - bhi - ((lo >>> 0) < (blo >>> 0) ? 1 : 0)) | 0;
    lo = nlo;
  }
  if (bhi < 0) {
    const nlo = (lo - alo) | 0;
    hi = (hi - ahi - ((lo >>> 0) < (alo >>> 0) ? 1 : 0)) | 0;
    lo = nlo;
  }
  res[0] = lo;
  res[1] = hi;
}

const TWO32 = 4294967296;
const SAFE_HI = 0x1fffff; // hi <= this: the value is below 2^53

function fromNum(v: number): void {
  res[0] = v % TWO32 | 0;
  res[1] = Math.floor(v / TWO32) | 0;
}

export function udiv64(alo: number, ahi: number, blo: number, bhi: number): void {
  if (blo === 0 && bhi === 0) return fromNum(0);
  if (ahi >>> 0 <= SAFE_HI && bhi >>> 0 <= SAFE_HI) {
    return fromNum(Math.floor(((ahi >>> 0) * TWO32 + (alo >>> 0)) / ((bhi >>> 0) * TWO32 + (blo >>> 0))));
  }
  udiv128(alo, ahi, 0, 0, blo, bhi);
  res[0] = divOut.q0;
  res[1] = divOut.q1;
}

export function sdiv64(alo: number, ahi: number, blo: number, bhi: number): void {
  if (blo === 0 && bhi === 0) return fromNum(0);
  const an = ahi < 0, bn = bhi < 0;
  // |a| and |b| as pairs (negating INT64_MIN gives itself, read as unsigned 2^63: correct).
  let ulo = alo, uhi = ahi;
  if (an) { ulo = -alo | 0; uhi = (~ahi + (alo === 0 ? 1 : 0)) | 0; }
  let vlo = blo, vhi = bhi;
  if (bn) { vlo = -blo | 0; vhi = (~bhi + (blo === 0 ? 1 : 0)) | 0; }
  udiv64(ulo, uhi, vlo, vhi);
  if (an !== bn) {
    const lo = res[0] as number, hi = res[1] as number;
    res[0] = -lo | 0;
    res[1] = (~hi + (lo === 0 ? 1 : 0)) | 0;
  }
}

/** Reverse the bits of a 32-bit value. */
export function rbit32(v: number): number {
  v = ((v >>> 1) & 0x55555555) | ((v & 0x55555555) << 1);
  v = ((v >>> 2) & 0x33333333) | ((v & 0x33333333) << 2);
  v = ((v >>> 4) & 0x0f0f0f0f) | ((v & 0x0f0f0f0f) << 4);
  v = ((v >>> 8) & 0x00ff00ff) | ((v & 0x00ff00ff) << 8);
  return (v >>> 16) | (v << 16);
}

export function bswap32(v: number): number {
  return ((v >>> 24) | ((v >>> 8) & 0xff00) | ((v << 8) & 0xff0000) | (v << 24)) | 0;
}

export function rev16in32(v: number): number {
  return (((v >>> 8) & 0x00ff00ff) | ((v & 0x00ff00ff) << 8)) | 0;
}

/** Count leading sign bits (CLS) of a 32-bit value. */
export function cls32(v: number): number {
  return Math.clz32((v ^ (v << 1)) | 1);
}

/** Count leading sign bits of a 64-bit pair. */
export function cls64(lo: number, hi: number): number {
  const ylo = (lo ^ (lo << 1)) | 1;
  const yhi = hi ^ ((hi << 1) | (lo >>> 31));
  return yhi !== 0 ? Math.clz32(yhi) : 32 + Math.clz32(ylo);
}

/** Arm condition codes (ConditionHolds). */
export function condHolds(cond: number, n: number, z: number, c: number, v: number): boolean {
  let r: boolean;
  switch (cond >> 1) {
    case 0: r = z === 1; break;
    case 1: r = c === 1; break;
    case 2: r = n === 1; break;
    case 3: r = v === 1; break;
    case 4: r = c === 1 && z === 0; break;
    case 5: r = n === v; break;
    case 6: r = n === v && z === 0; break;
    default: return true;
  }
  return (cond & 1) === 1 ? !r : r;
}
