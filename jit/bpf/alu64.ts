// 64-bit integer arithmetic on (lo, hi) int32 pairs for the BPF interpreter, without BigInt
// (DEVELOPERS.md: no BigInt on hot paths). Results go into `out[k]` (lo) and `out[k+1]` (hi) of an
// Int32Array, the register file's layout. Semantics are RFC 9669's: wrap on overflow; division by
// zero is handled by the caller (interp.ts); signed INT64_MIN / -1 gives INT64_MIN, % gives 0.

/** out = a * b (low 64 bits). */
export function mul64(alo: number, ahi: number, blo: number, bhi: number, out: Int32Array, k: number): void {
  const a0 = alo & 0xffff;
  const a1 = alo >>> 16;
  const b0 = blo & 0xffff;
  const b1 = blo >>> 16;
  const p00 = a0 * b0;
  const p01 = a0 * b1;
  const p10 = a1 * b0;
  const p11 = a1 * b1;
  const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  out[k] = (p00 & 0xffff) | (mid << 16);
  const hiProd = (p11 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16)) | 0;
  out[k + 1] = (hiProd + Math.imul(alo, bhi) + Math.imul(ahi, blo)) | 0;
}

const scratch = new Int32Array(4);

/**
 * Unsigned 64-bit divide: scratch[0..1] = quotient, scratch[2..3] = remainder. The divisor is
 * non-zero (the caller handles zero).
 */
function udivmod64(nlo: number, nhi: number, dlo: number, dhi: number): Int32Array {
  const nl = nlo >>> 0;
  const nh = nhi >>> 0;
  const dl = dlo >>> 0;
  const dh = dhi >>> 0;
  if (nh === 0 && dh === 0) {
    const q = Math.floor(nl / dl);
    scratch[0] = q;
    scratch[1] = 0;
    scratch[2] = nl - q * dl;
    scratch[3] = 0;
    return scratch;
  }
  if (nh < 0x100000 && dh < 0x100000) {
    // Both below 2^52: exact in doubles, with a correction step for the rounded quotient.
    const n = nh * 0x100000000 + nl;
    const d = dh * 0x100000000 + dl;
    let q = Math.floor(n / d);
    let r = n - q * d;
    if (r < 0) {
      q -= 1;
      r += d;
    } else if (r >= d) {
      q += 1;
      r -= d;
    }
    scratch[0] = q >>> 0;
    scratch[1] = Math.floor(q / 0x100000000);
    scratch[2] = r >>> 0;
    scratch[3] = Math.floor(r / 0x100000000);
    return scratch;
  }
  // Restoring long division, one bit at a time (r may carry out of 64 bits: then r >= d).
  let qlo = 0;
  let qhi = 0;
  let rlo = 0;
  let rhi = 0;
  for (let i = 63; i >= 0; i--) {
    const carry = rhi >>> 31;
    rhi = ((rhi << 1) | (rlo >>> 31)) >>> 0;
    rlo = ((rlo << 1) | (i >= 32 ? (nh >>> (i - 32)) & 1 : (nl >>> i) & 1)) >>> 0;
    if (carry || rhi > dh || (rhi === dh && rlo >= dl)) {
      const borrow = rlo < dl ? 1 : 0;
      rlo = (rlo - dl) >>> 0;
      rhi = (rhi - dh - borrow) >>> 0;
      if (i >= 32) qhi |= 1 << (i - 32);
      else qlo |= 1 << i;
    }
  }
  scratch[0] = qlo;
  scratch[1] = qhi;
  scratch[2] = rlo;
  scratch[3] = rhi;
  return scratch;
}

/** out = a / b unsigned (b != 0). */
export function udiv64(alo: number, ahi: number, blo: number, bhi: number, out: Int32Array, k: number): void {
  const s = udivmod64(alo, ahi, blo, bhi);
  out[k] = s[0] as number;
  out[k + 1] = s[1] as number;
}

/** out = a % b unsigned (b != 0). */
export function umod64(alo: number, ahi: number, blo: number, bhi: number, out: Int32Array, k: number): void {
  const s = udivmod64(alo, ahi, blo, bhi);
  out[k] = s[2] as number;
  out[k + 1] = s[3] as number;
}

function negLo(lo: number): number {
  return (-lo) | 0;
}
function negHi(lo: number, hi: number): number {
  return (~hi + (lo === 0 ? 1 : 0)) | 0;
}

/** out = a / b signed, truncating (b != 0; INT64_MIN / -1 wraps to INT64_MIN). */
export function sdiv64(alo: number, ahi: number, blo: number, bhi: number, out: Int32Array, k: number): void {
  const an = ahi < 0;
  const bn = bhi < 0;
  const s = udivmod64(an ? negLo(alo) : alo, an ? negHi(alo, ahi) : ahi, bn ? negLo(blo) : blo, bn ? negHi(blo, bhi) : bhi);
  const qlo = s[0] as number;
  const qhi = s[1] as number;
  if (an !== bn) {
    out[k] = negLo(qlo);
    out[k + 1] = negHi(qlo, qhi);
  } else {
    out[k] = qlo;
    out[k + 1] = qhi;
  }
}

/** out = a % b signed, result takes the dividend's sign (b != 0). */
export function smod64(alo: number, ahi: number, blo: number, bhi: number, out: Int32Array, k: number): void {
  const an = ahi < 0;
  const bn = bhi < 0;
  const s = udivmod64(an ? negLo(alo) : alo, an ? negHi(alo, ahi) : ahi, bn ? negLo(blo) : blo, bn ? negHi(blo, bhi) : bhi);
  const rlo = s[2] as number;
  const rhi = s[3] as number;
  if (an) {
    out[k] = negLo(rlo);
    out[k + 1] = negHi(rlo, rhi);
  } else {
    out[k] = rlo;
    out[k + 1] = rhi;
  }
}

/** out = a << n (n in 0..63). */
export function lsh64(lo: number, hi: number, n: number, out: Int32Array, k: number): void {
  if (n === 0) {
    out[k] = lo;
    out[k + 1] = hi;
  } else if (n < 32) {
    out[k + 1] = (hi << n) | (lo >>> (32 - n));
    out[k] = lo << n;
  } else {
    out[k + 1] = lo << (n - 32);
    out[k] = 0;
  }
}

/** out = a >> n logical (n in 0..63). */
export function rsh64(lo: number, hi: number, n: number, out: Int32Array, k: number): void {
  if (n === 0) {
    out[k] = lo;
    out[k + 1] = hi;
  } else if (n < 32) {
    out[k] = (lo >>> n) | (hi << (32 - n));
    out[k + 1] = hi >>> n;
  } else {
    out[k] = hi >>> (n - 32);
    out[k + 1] = 0;
  }
}

/** out = a >> n arithmetic (n in 0..63). */
export function arsh64(lo: number, hi: number, n: number, out: Int32Array, k: number): void {
  if (n === 0) {
    out[k] = lo;
    out[k + 1] = hi;
  } else if (n < 32) {
    out[k] = (lo >>> n) | (hi << (32 - n));
    out[k + 1] = hi >> n;
  } else {
    out[k] = hi >> (n - 32);
    out[k + 1] = hi >> 31;
  }
}

export function bswap32(x: number): number {
  return ((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24);
}
export function bswap16(x: number): number {
  return ((x & 0xff) << 8) | ((x >>> 8) & 0xff);
}

/** Unsigned a < b on pairs. */
export function ult64(alo: number, ahi: number, blo: number, bhi: number): boolean {
  const ah = ahi >>> 0;
  const bh = bhi >>> 0;
  return ah < bh || (ah === bh && alo >>> 0 < blo >>> 0);
}
/** Signed a < b on pairs. */
export function slt64(alo: number, ahi: number, blo: number, bhi: number): boolean {
  const ah = ahi | 0;
  const bh = bhi | 0;
  return ah < bh || (ah === bh && alo >>> 0 < blo >>> 0);
}
